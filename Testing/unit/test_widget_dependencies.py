"""What the panel says about PyTorch and the GPU, and which devices it offers: a GPU this PyTorch build
cannot run is named with the CPU fallback, and neither it nor "auto" (which would pick it) is offered.

PyTorch is replaced by small stand-ins with the attributes ``dependencies`` reads (``cuda.is_available``,
``get_device_capability``, ``get_arch_list``, ``version.cuda``): the GPU cases cannot be produced on a
CPU-only machine otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPOSITORY / "SynthTrustSlicer"), str(REPOSITORY / "Testing")]

from SynthTrustSlicerLib import dependencies  # noqa: E402


def fake_torch(available=True, capability=(9, 0), architectures=("sm_80", "sm_90"), cuda="12.4",
               name="NVIDIA H200", memory_gib=140.0):
    return SimpleNamespace(
        __version__="2.13.0", version=SimpleNamespace(cuda=cuda),
        cuda=SimpleNamespace(is_available=lambda: available, get_device_name=lambda index: name,
                             get_device_capability=lambda index: capability,
                             get_arch_list=lambda: list(architectures),
                             get_device_properties=lambda index: SimpleNamespace(total_memory=memory_gib * 2**30)))


@pytest.mark.parametrize(("architectures", "capability", "runs"), [
    (["sm_80", "sm_90"], (9, 0), True),
    (["sm_80", "sm_86"], (8, 9), True),  # a cubin for 8.6 runs on 8.9 (same major)
    (["sm_50", "sm_60", "sm_70", "sm_80", "sm_90"], (12, 0), False),  # Blackwell on a CUDA 12.4 build
    (["sm_80", "compute_90"], (12, 0), True),  # PTX the driver compiles for the newer GPU
    (["sm_90"], (8, 6), False),
])
def test_a_gpu_runs_the_kernels_of_its_own_major_or_older_ptx(architectures, capability, runs):
    assert dependencies.runs_on(architectures, *capability) is runs


def test_a_usable_gpu_is_named_with_its_memory():
    usable, line = dependencies.gpu_report(fake_torch())
    assert usable and line == "GPU NVIDIA H200, 140.0 GiB (PyTorch 2.13.0, CUDA 12.4)"


def test_a_gpu_this_build_cannot_run_is_said_with_the_cpu_fallback_and_what_to_reinstall():
    usable, line = dependencies.gpu_report(fake_torch(capability=(12, 0), name="NVIDIA RTX PRO 6000"))
    assert not usable
    assert line.startswith("CPU: the GPU NVIDIA RTX PRO 6000 (compute capability 12.0) cannot be used by PyTorch "
                           "2.13.0, which was built for sm_80, sm_90; SynthTrust runs on the CPU.")
    assert "reinstall PyTorch in PyTorch Utils with a newer CUDA backend" in line


def test_a_cpu_only_build_beside_an_nvidia_driver_says_to_reinstall_with_cuda(monkeypatch):
    monkeypatch.setattr(dependencies, "nvidia_gpu_present", lambda: True)
    usable, line = dependencies.gpu_report(fake_torch(available=False, cuda=None))
    assert not usable and "CPU-only build, so the NVIDIA GPU is not used" in line


def test_a_cuda_build_that_finds_no_gpu_names_the_driver():
    usable, line = dependencies.gpu_report(fake_torch(available=False, cuda="12.4"))
    assert not usable and "built for CUDA 12.4 but finds no usable GPU. Update the NVIDIA driver" in line


def test_a_broken_cuda_install_is_reported_not_raised():
    torch = fake_torch()
    torch.cuda.get_device_name = lambda index: (_ for _ in ()).throw(RuntimeError("CUDA error: no kernel image"))
    usable, line = dependencies.gpu_report(torch)
    assert not usable and line == "CPU: PyTorch cannot use the GPU (RuntimeError: CUDA error: no kernel image)."


@pytest.mark.parametrize(("torch", "values"), [
    (fake_torch(), ["auto", "cpu", "cuda"]),
    (fake_torch(capability=(12, 0)), ["cpu"]),  # neither the GPU nor auto, which would pick it
    (fake_torch(available=False, cuda=None), None),
])
def test_the_device_boxes_offer_only_what_can_run(monkeypatch, torch, values):
    monkeypatch.setattr(dependencies, "is_installed", lambda module: True)
    monkeypatch.setattr(dependencies, "_import_torch", lambda: torch)
    monkeypatch.setattr(dependencies, "nvidia_gpu_present", lambda: False)
    choices, line = dependencies.device_choices()
    assert [value for value, _label in choices] == (values or ["auto", "cpu"])
    assert line == dependencies.gpu_report(torch)[1]


def test_with_pytorch_but_not_monai_the_line_names_the_gpu_and_what_apply_still_installs(monkeypatch):
    monkeypatch.setattr(dependencies, "is_installed", lambda module: module != "monai")
    monkeypatch.setattr(dependencies, "_import_torch", lambda: fake_torch())
    choices, line = dependencies.device_choices()
    assert [value for value, _label in choices] == ["auto", "cpu", "cuda"]
    assert line == ("GPU NVIDIA H200, 140.0 GiB (PyTorch 2.13.0, CUDA 12.4)\n"
                    "Apply first asks to install monai, then runs.")


def test_before_pytorch_is_installed_the_boxes_offer_auto_and_the_line_says_what_apply_installs(monkeypatch):
    monkeypatch.setattr(dependencies, "is_installed", lambda module: module not in ("torch", "monai"))
    choices, line = dependencies.device_choices()
    assert [value for value, _label in choices] == ["auto", "cpu"]
    assert line == "Apply first asks to install PyTorch (PyTorch extension), monai, then runs."


def test_the_panel_says_when_its_gpu_cannot_be_used_and_runs_on_the_cpu(monkeypatch):
    pytest.importorskip("PySide6.QtWidgets")
    pytest.importorskip("slicer", reason="needs slicer-core (pip install -e .[scene])")
    from PySide6 import QtWidgets
    from slicer_stand_ins.environment import install

    QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    monkeypatch.setattr(dependencies, "_import_torch", lambda: fake_torch(capability=(12, 0)))
    environment = install()
    try:
        widget = environment.open_module().widget
        label, devices = widget.ui.environmentStatusLabel, widget.ui.deviceComboBox
        assert label.text().startswith("CPU: the GPU NVIDIA H200 (compute capability 12.0) cannot be used")
        assert not label.isHidden()
        assert [devices.itemData(i) for i in range(devices.count())] == ["cpu"]
        assert (widget._parameterNode.device, widget._parameterNode.segmentationDevice) == ("cpu", "cpu")
    finally:
        environment.uninstall()
