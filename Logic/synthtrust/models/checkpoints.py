"""Weights on disk: read them without executing code (safetensors, or ``torch.load(weights_only=True)``),
check that they fit their network, and write them as safetensors. Shared by segmenters and generators."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from synthtrust.errors import InputError
from synthtrust.imaging.io import atomic_path
from synthtrust.models.files import WEIGHT_SUFFIXES
from synthtrust.provenance import json_text

# Keys under which training scripts commonly nest the state dict inside a .pt file.
NESTED_STATE_KEYS = ("state_dict", "model", "network", "model_state_dict", "net")


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Tensors by name from ``.safetensors`` or ``.pt``/``.pth`` (loaded with ``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"model weights {path} do not exist; check the path given with --model")
    if not path.name.endswith(WEIGHT_SUFFIXES):
        raise InputError(f"model weights {path} are neither .safetensors nor .pt/.pth; convert them (TorchScript "
                         "and pickled whole models are not loaded, as they can run code)")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path), device="cpu")
        else:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as error:  # corrupt or unsafe files raise many different exception types
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise InputError(f"cannot read model weights {path} ({type(error).__name__}: {first[:200]}); the file is "
                         "corrupt, truncated, or holds more than tensors (only plain state dicts are loaded)") from None
    if isinstance(state, dict):
        for key in NESTED_STATE_KEYS:
            if isinstance(state.get(key), dict):
                state = state[key]
                break
    if not isinstance(state, dict) or not state:
        raise InputError(f"model weights {path} hold no state dict (got {type(state).__name__}); save "
                         "network.state_dict()")
    not_tensors = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if not_tensors:
        raise InputError(f"model weights {path} hold non-tensor entries {not_tensors[:3]}; save only "
                         "network.state_dict()")
    # Weights saved from torch.nn.DataParallel / DistributedDataParallel carry a 'module.' prefix.
    if all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def fit_state_dict(network: torch.nn.Module, state: dict[str, torch.Tensor], source: str,
                   config_hint: str = "its config") -> None:
    """Load ``state`` strictly; if it does not fit, refuse naming a few offending keys and the fix."""
    expected = network.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    mismatched = [f"{k} {tuple(state[k].shape)} in the file vs {tuple(expected[k].shape)} in the network"
                  for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    if missing or unexpected or mismatched:
        problems = []
        if missing:
            problems.append(f"{len(missing)} missing key(s), e.g. {', '.join(missing[:2])}")
        if unexpected:
            problems.append(f"{len(unexpected)} unexpected key(s), e.g. {', '.join(unexpected[:2])}")
        if mismatched:
            problems.append(f"{len(mismatched)} shape mismatch(es), e.g. {'; '.join(mismatched[:2])}")
        raise InputError(f"checkpoint {source} does not fit the {type(network).__name__} described by "
                         f"{config_hint}: {'; '.join(problems)}; use the config (architecture, network_kwargs, "
                         "channels, label_values) the checkpoint was trained with")
    network.load_state_dict(state, strict=True)


def save_weights(network: torch.nn.Module, path: str | os.PathLike, metadata: dict | None = None) -> Path:
    """Write the network's weights as safetensors, atomically (temporary name, then rename); ``metadata`` is
    stored as one JSON string, because safetensors orders several metadata keys at random and the same
    weights must give the same file (and sha256)."""
    from safetensors.torch import save

    path = Path(path)
    state = {k: v.detach().cpu().contiguous() for k, v in network.state_dict().items()}
    data = save(state, metadata={"synthtrust": json_text(metadata or {}, indent=None, sort_keys=True)})
    # Written by us into atomic_path's temporary file, so the weights get a new file's permissions
    # (safetensors' own save_file leaves them private, 0600).
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)
    return path
