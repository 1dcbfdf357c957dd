"""The module class as Slicer loads it: its title, category and icon, and the two samples it adds to the
SampleData module once Slicer has started (``slicer.app``'s ``startupCompleted()``); the brain sample asks
once for nilearn there too."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

QtWidgets = pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("slicer", reason="needs slicer-core (pip install -e .[scene])")

REPOSITORY = Path(__file__).resolve().parents[2]
MODULE_FILE = REPOSITORY / "SynthTrustSlicer" / "SynthTrustSlicer.py"
sys.path[:0] = [str(MODULE_FILE.parent), str(REPOSITORY / "Testing")]

from slicer_stand_ins.environment import install  # noqa: E402


@pytest.fixture
def environment():
    QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    environment = install(blocked=("nilearn",))
    yield environment
    environment.uninstall()


def load_module():
    """What Slicer does with a scripted module file: the class named like the file, given its parent."""
    import SynthTrustSlicer

    parent = SimpleNamespace(path=str(MODULE_FILE), icon=None)
    return SynthTrustSlicer.SynthTrustSlicer(parent), parent


def test_the_module_says_who_it_is_and_where_it_sits(environment):
    import slicer

    module, parent = load_module()
    assert parent.title == "SynthTrust" and parent.categories == ["Segmentation"]
    assert {"Segmentations", "SegmentEditor", "Markups"} <= set(parent.dependencies)
    assert parent.icon is not None and not parent.icon.isNull()
    assert "MNI" in parent.acknowledgementText and "README.md" in parent.helpText
    assert slicer.selfTests["SynthTrustSlicer"] == module.runTest


def test_both_samples_appear_in_sample_data_once_slicer_has_started_and_the_heart_loads(environment):
    import SampleData
    import slicer

    load_module()
    assert "SynthTrust" not in getattr(slicer.modules, "sampleDataSources", {}), "nothing before startup"
    environment.app.startupCompleted.emit()
    sources = slicer.modules.sampleDataSources["SynthTrust"]
    assert [s.sampleName for s in sources] == ["SynthTrustBrainMNI152", "SynthTrustHeartLGE"]
    assert all(Path(s.thumbnailFileName).is_file() for s in sources)
    volume, anatomy = SampleData.SampleDataLogic.press("SynthTrust", "SynthTrustHeartLGE")
    assert volume.GetScene() is environment.session.scene
    assert anatomy.GetSegmentation().GetNumberOfSegments() == 2


def test_the_sample_brain_button_of_sample_data_asks_for_nilearn_and_shows_a_refusal(environment):
    import SampleData

    load_module()
    environment.app.startupCompleted.emit()
    environment.dialogs.answers[:] = [QtWidgets.QMessageBox.Cancel]
    with pytest.raises(RuntimeError, match="Nothing was installed"):
        SampleData.SampleDataLogic.press("SynthTrust", "SynthTrustBrainMNI152")
    prompt, error = environment.dialogs.shown
    assert "nilearn>=0.10" in prompt.text and prompt.answer == "Cancel"
    assert error.text.startswith("Could not load the SynthTrust sample brain.\n\nNothing was installed")
    assert environment.session.scene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode") == 0


@pytest.mark.slow  # about 30 s: a template run and a two-segment sweep through the real worker
def test_the_in_slicer_self_test_passes(environment):
    import slicer

    load_module()
    slicer.selfTests["SynthTrustSlicer"]()  # what Developer mode > Reload and Test runs inside Slicer
