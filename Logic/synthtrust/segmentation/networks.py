"""MONAI networks from a :class:`NetworkConfig`: UNet, SegResNet, SwinUNETR (or, for MONAI bundles, any
class of ``monai.networks.nets``)."""

from __future__ import annotations

import inspect

import torch

from synthtrust.errors import InputError
from synthtrust.segmentation.config import ARCHITECTURES, NetworkConfig

# Class names in monai.networks.nets for our short architecture names.
MONAI_CLASSES = {"unet": "UNet", "segresnet": "SegResNet", "swinunetr": "SwinUNETR"}


def monai_network_class(name: str) -> type[torch.nn.Module]:
    """A network class of ``monai.networks.nets`` by short name (``unet``) or class name (``DynUNet``)."""
    import monai.networks.nets as nets

    class_name = MONAI_CLASSES.get(name.lower(), name.rsplit(".", 1)[-1])
    candidate = getattr(nets, class_name, None)
    if not (inspect.isclass(candidate) and issubclass(candidate, torch.nn.Module)):
        raise InputError(f"network {name!r} is not a network class of monai.networks.nets; use one of "
                         f"{', '.join(ARCHITECTURES)} or a MONAI class name such as DynUNet")
    return candidate


def network_kwargs(config: NetworkConfig) -> dict:
    """The keyword arguments the network is built with: the config's own, plus dimensions and channel counts.
    (No defaults of ours are mixed in: a bundle's network must be built exactly as it was trained.)"""
    kwargs = dict(config.network_kwargs)
    cls = monai_network_class(config.architecture)
    parameters = inspect.signature(cls).parameters
    if "spatial_dims" in parameters:
        kwargs.setdefault("spatial_dims", 3)
    if "in_channels" in parameters:
        kwargs["in_channels"] = config.in_channels
    if "out_channels" in parameters:
        kwargs["out_channels"] = config.out_channels
    return kwargs


def build_network(config: NetworkConfig) -> torch.nn.Module:
    """Instantiate the network a config describes (weights initialised, not loaded)."""
    cls = monai_network_class(config.architecture)
    kwargs = network_kwargs(config)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError, AssertionError, KeyError, IndexError) as error:
        # MONAI's messages can span several lines; the first says what is wrong.
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise InputError(f"cannot build {cls.__name__} from segmenter config {config.id or ''} with "
                         f"{kwargs}: {first[:200]}; fix network_kwargs") from None
