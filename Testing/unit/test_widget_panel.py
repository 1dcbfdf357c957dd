"""``SynthTrustSlicerWidget`` itself, in its Slicer panel, under PySide6 offscreen.

The Slicer application parts come from ``Testing/slicer_stand_ins`` (checked against Slicer 5.10's source);
MRML and ``slicer.util`` (``tryWithErrorDisplay``, ``confirmOkCancelDisplay``, ``errorDisplay``) are the real
ones from slicer-core. The tests click the panel as a user would: open it, choose inputs, place a tumour and
a scar, Apply (one run goes through the real worker process end to end), follow progress, Cancel, close
the scene mid-run, and make each step fail to see the error shown and the panel recover.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest

QtWidgets = pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("slicer", reason="needs slicer-core (pip install -e .[scene])")
from __feature__ import true_property  # noqa: E402, F401 - attribute-style Qt properties, as PythonQt
from PySide6 import QtCore  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

REPOSITORY = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPOSITORY / "SynthTrustSlicer"), str(REPOSITORY / "Testing")]

from slicer_stand_ins.environment import install  # noqa: E402

OK, CANCEL = QtWidgets.QMessageBox.Ok, QtWidgets.QMessageBox.Cancel


@pytest.fixture(scope="module")
def app():
    return QtWidgets.QApplication.instance() or QtWidgets.QApplication([])


@pytest.fixture
def slicer_env(app):
    environment = install()
    yield environment
    environment.uninstall()


@pytest.fixture
def widget(slicer_env):
    """The module's widget after Slicer's setup() and enter()."""
    return slicer_env.open_module().widget


def click(button) -> None:
    QTest.mouseClick(button, QtCore.Qt.LeftButton)


def wait_until_idle(widget, seconds: float = 180.0) -> set[str]:
    """Let the panel's timer poll the job until it ends; returns the progress texts shown meanwhile."""
    shown, deadline = set(), time.monotonic() + seconds
    while widget.controller.busy and time.monotonic() < deadline:
        QtWidgets.QApplication.processEvents(QtCore.QEventLoop.AllEvents, 50)
        shown.add(widget.ui.progressBar.format)
        time.sleep(0.02)
    assert not widget.controller.busy, "the job did not end in time"
    return shown


def tiny_brain_volume(slicer_env, name: str = "T1"):
    """A 32^3 volume at 2 mm with a bright blob (enough for placement and the template engine)."""
    from synthtrust.imaging.image import Image
    from synthtrust.scene import add_volume

    z, y, x = np.mgrid[:32, :32, :32]
    array = (100.0 * np.exp(-((x - 16) ** 2 + (y - 16) ** 2 + (z - 16) ** 2) / 200.0)).astype(np.float32)
    return add_volume(slicer_env.session, Image.from_array(array, spacing=(2.0, 2.0, 2.0)), name)


def centre_point(slicer_env, ras=(-30.0, -30.0, 30.0)):

    points = slicer_env.session.scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "Centre")
    points.AddControlPoint(*ras)
    return points


def sample_heart_with_scar(widget):
    click(widget.ui.loadSampleHeartButton)
    widget._parameterNode.variants = 1
    click(widget.ui.placeScarButton)
    assert widget._parameterNode.lesionSegmentation is not None


def scene_node_count(slicer_env) -> int:
    return slicer_env.session.scene.GetNumberOfNodes()


# ------------------------------------------------------------------------------------------- opening
def test_the_panel_opens_lists_every_shipped_model_and_offers_the_devices(widget):
    from synthtrust.models.manifest import read_manifest

    ui = widget.ui
    brain = [e.id for e in read_manifest() if e.task == "brain-tumor" and (e.kind or "segmenter") == "segmenter"]
    listed = [ui.segmenterListWidget.item(i).data(QtCore.Qt.UserRole) for i in range(ui.segmenterListWidget.count)]
    assert listed == brain and len(brain) >= 1
    assert ui.engineComboBox.count >= 3 and ui.modelComboBox.count >= 1
    assert [ui.deviceComboBox.itemData(i) for i in range(ui.deviceComboBox.count)][-1] in ("cpu", "cuda")
    assert ui.environmentStatusLabel.text.startswith(("CPU", "GPU")) and not ui.environmentStatusLabel.isHidden()
    assert not ui.applyButton.enabled and "input volume" in ui.applyButton.toolTip


def test_a_model_list_that_cannot_be_read_is_shown_and_the_panel_still_opens(slicer_env, monkeypatch):
    from SynthTrustSlicerLib.logic import SynthTrustSlicerLogic

    def unreadable(self, task):
        raise ModuleNotFoundError("No module named 'torch'")

    monkeypatch.setattr(SynthTrustSlicerLogic, "segmenter_models", unreadable)
    panel = slicer_env.open_module()  # tryWithErrorDisplay re-raises: this would fail if it escaped setup()
    assert panel.isEntered and slicer_env.dialogs.texts == [
        "Could not list the engines and models.\n\nNo module named 'torch'"]
    ui = panel.widget.ui
    ui.segmenterPathLineEdit.currentPath = "/models/my_segmenter.pt"  # a local model still works
    assert panel.widget._parameterNode.segmenterPath == "/models/my_segmenter.pt"


def test_the_parameter_node_keeps_the_panels_values_and_refuses_out_of_range_ones(widget):
    pn = widget._parameterNode
    widget.ui.tumorSizeSliderWidget.value = 40.0
    assert pn.tumorSizeMm == pytest.approx(40.0)
    with pytest.raises(ValueError, match="within range"):
        pn.tumorSizeMm = 500.0
    assert pn.tumorSizeMm == pytest.approx(40.0) and widget.ui.tumorSizeSliderWidget.value == pytest.approx(40.0)
    assert pn.parameterNode.GetParameter("tumorSizeMm") == "40.0"


def test_exit_releases_the_editor_and_the_panel_and_enter_binds_them_again(slicer_env):
    panel = slicer_env.open_module()
    widget = panel.widget
    editor = widget.ui.segmentEditorWidget
    assert editor.shortcutsInstalled and panel.isEntered
    panel.exit()
    assert not editor.shortcutsInstalled and editor.activeEffect is None and not editor.viewsObserved
    widget.ui.variantsSpinBox.value = 7  # not bound while another module is shown
    assert widget._parameterNode is None and widget.logic.getParameterNode().GetParameter("variants") == "3"
    panel.enter()
    assert editor.shortcutsInstalled and widget.ui.variantsSpinBox.value == 3
    widget.ui.variantsSpinBox.value = 5
    assert widget._parameterNode.variants == 5


# ------------------------------------------------------------------------------------------- inputs, lesions
def test_choosing_inputs_in_the_selectors_fills_the_parameter_node_and_enables_placing_a_tumour(slicer_env, widget):
    ui, pn = widget.ui, widget._parameterNode
    volume = tiny_brain_volume(slicer_env)
    assert not ui.previewTumorButton.enabled
    ui.channel1Selector.setCurrentNode(volume)
    ui.tumorCenterSelector.setCurrentNode(centre_point(slicer_env))
    assert pn.channel1Volume is volume and pn.tumorCenter.GetNumberOfControlPoints() == 1
    ui.channel1ModalityComboBox.currentIndex = ui.channel1ModalityComboBox.findText("T1")
    assert pn.channel1Modality.value == "t1"
    assert ui.previewTumorButton.enabled and ui.placeTumorButton.enabled, ui.placeTumorButton.toolTip
    assert widget.ui.segmentEditorWidget.sourceVolumeNode is volume


def test_placing_a_tumour_previews_it_then_adds_it_as_the_lesion_and_apply_becomes_ready(slicer_env, widget):
    ui, pn = widget.ui, widget._parameterNode
    ui.channel1Selector.setCurrentNode(tiny_brain_volume(slicer_env))
    ui.tumorCenterSelector.setCurrentNode(centre_point(slicer_env))
    ui.tumorSizeSliderWidget.value = 16.0
    nodes = scene_node_count(slicer_env)
    click(ui.previewTumorButton)
    assert "Preview:" in ui.logTextEdit.plainText and "mL" in ui.logTextEdit.plainText
    assert pn.lesionSegmentation is None, "a preview is not the lesion"
    click(ui.placeTumorButton)
    assert pn.lesionSegmentation is not None and ui.lesionSegmentationSelector.currentNode() is pn.lesionSegmentation
    assert scene_node_count(slicer_env) > nodes
    assert ui.applyButton.enabled, ui.applyButton.toolTip
    assert slicer_env.dialogs.shown == []


def test_the_sample_heart_and_a_scar_from_the_bullseye_make_apply_ready(widget):
    ui, pn = widget.ui, widget._parameterNode
    click(ui.loadSampleHeartButton)
    assert pn.task.value == "cardiac-scar" and pn.anatomySegmentation is not None
    assert not ui.scarGroupBox.isHidden() and ui.tumorGroupBox.isHidden()
    widget.bullseye.resize(200, 200)
    widget.bullseye.setSelection([])
    pn.scarSegments = ""
    QTest.mouseClick(widget.bullseye, QtCore.Qt.LeftButton, pos=QtCore.QPoint(100, 8))  # segment 1, basal anterior
    assert pn.scarSegments == "1" and ui.placeScarButton.enabled
    click(ui.placeScarButton)
    assert pn.lesionSegmentation.GetName().startswith("Scar AHA 1")
    assert ui.applyButton.enabled, ui.applyButton.toolTip


# ------------------------------------------------------------------------------------------- runs
def test_apply_runs_the_real_worker_shows_progress_and_the_results(slicer_env, widget):
    ui = widget.ui
    sample_heart_with_scar(widget)
    nodes = scene_node_count(slicer_env)
    click(ui.applyButton)
    assert ui.applyButton.text == "Cancel" and not ui.inputsCollapsibleButton.enabled
    shown = wait_until_idle(widget)
    assert any("segment" in text and "step" in text for text in shown), shown
    log = ui.logTextEdit.plainText
    assert "Finished in" in log, log
    assert ui.applyButton.text == "Apply" and ui.inputsCollapsibleButton.enabled
    assert ui.resultsTableView.rowCount > 0 and ui.fidelityBadgeLabel.text.startswith("Fidelity")
    assert not ui.resultsCollapsibleButton.collapsed
    assert scene_node_count(slicer_env) > nodes and widget.controller.last_run is not None
    # The synthetic volume is in the slice views, as Slicer's setSliceViewerLayers puts it.
    red = slicer_env.app.layoutManager().sliceWidget("Red").mrmlSliceCompositeNode()
    assert red.GetBackgroundVolumeID() == widget.controller.last_run.synthetic_volume_nodes[0][0].GetID()


def test_cancel_stops_the_worker_and_leaves_the_scene_unchanged(slicer_env, widget):
    ui = widget.ui
    sample_heart_with_scar(widget)
    nodes = scene_node_count(slicer_env)
    click(ui.applyButton)
    click(ui.applyButton)  # Cancel
    assert ui.applyButton.text == "Cancelling..." and not ui.applyButton.enabled
    wait_until_idle(widget, 60)
    assert "Cancelled; the scene is unchanged." in ui.logTextEdit.plainText
    assert ui.applyButton.text == "Apply" and ui.applyButton.enabled
    assert scene_node_count(slicer_env) == nodes


def test_closing_the_scene_mid_run_cancels_it_imports_nothing_and_the_panel_starts_afresh(slicer_env, widget):
    ui = widget.ui
    sample_heart_with_scar(widget)
    click(ui.applyButton)
    slicer_env.session.scene.Clear(0)
    assert "The scene is closing" in ui.logTextEdit.plainText
    wait_until_idle(widget, 60)
    assert slicer_env.session.scene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode") == 0
    assert widget._parameterNode is not None and widget._parameterNode.lesionSegmentation is None
    assert not ui.applyButton.enabled and ui.applyButton.text == "Apply"
    click(ui.loadSampleHeartButton)  # the new scene works
    assert widget._parameterNode.anatomySegmentation is not None


# ------------------------------------------------------------------------------------------- errors
def shown_text(slicer_env) -> str:
    return "\n".join(slicer_env.dialogs.texts)


def test_an_error_placing_a_tumour_or_a_scar_is_shown_and_the_panel_goes_on(slicer_env, widget):
    widget._parameterNode.channel1Volume = tiny_brain_volume(slicer_env)
    with pytest.raises(ValueError):  # tryWithErrorDisplay shows it, then re-raises it
        widget.onPlaceTumor(preview=False)
    assert "Could not place the tumour.\n\nSelect the first input volume and a tumour centre point." in \
        shown_text(slicer_env)
    with pytest.raises(ValueError):
        widget.onPlaceScar(preview=True)
    assert "Could not place the scar." in shown_text(slicer_env)
    widget.ui.tumorCenterSelector.setCurrentNode(centre_point(slicer_env))
    click(widget.ui.placeTumorButton)
    assert widget._parameterNode.lesionSegmentation is not None


def test_results_layout_and_compare_without_a_run_say_why_and_compare_unchecks(slicer_env, widget):
    click(widget.ui.resultsLayoutButton)
    assert "Could not show the results layout.\n\nNo run to show yet" in shown_text(slicer_env)
    widget.ui.compareModeButton.checked = True  # toggled(True) runs; its error is shown, then unchecks
    assert "Could not switch the compare mode." in shown_text(slicer_env)
    assert not widget.ui.compareModeButton.checked and not widget.compare.active


def test_a_failing_run_is_logged_and_apply_comes_back(slicer_env, widget, tmp_path):
    ui = widget.ui
    sample_heart_with_scar(widget)
    missing = tmp_path / "no-such-model.safetensors"
    ui.segmenterPathLineEdit.currentPath = str(missing)
    for i in range(ui.segmenterListWidget.count):
        ui.segmenterListWidget.item(i).setCheckState(QtCore.Qt.Unchecked)
    nodes = scene_node_count(slicer_env)
    click(ui.applyButton)
    wait_until_idle(widget, 120)
    reported = ui.logTextEdit.plainText + shown_text(slicer_env)
    assert "no-such-model" in reported, reported
    assert ui.applyButton.text == "Apply" and ui.applyButton.enabled
    assert scene_node_count(slicer_env) == nodes


def test_the_sample_brain_asks_once_for_nilearn_and_a_declined_install_loads_nothing(app):
    environment = install(blocked=("nilearn",))
    try:
        widget = environment.open_module().widget
        environment.dialogs.answers[:] = [CANCEL]
        with pytest.raises(RuntimeError, match="Nothing was installed"):
            widget.onLoadSample("brain")
        prompts = [d for d in environment.dialogs.shown if d.title == "SynthTrust: install Python packages"]
        assert len(prompts) == 1 and "nilearn>=0.10" in prompts[0].text and prompts[0].buttons == ["OK", "Cancel"]
        assert environment.pip.calls == [] and widget._parameterNode.channel1Volume is None
        environment.dialogs.clear()
        environment.dialogs.answers[:] = [OK]
        click(widget.ui.loadSampleBrainButton)
        assert environment.pip.calls == [("pip_install", ["nilearn>=0.10"])]  # Slicer 5.10: slicer.util.pip_install
        assert len(environment.dialogs.shown) == 1, environment.dialogs.texts  # asked once, nothing else shown
        assert widget._parameterNode.channel1Volume.GetName() == "MNI152 T1"
    finally:
        environment.uninstall()


def test_on_slicer_5_12_the_packages_go_through_pip_ensure_without_a_second_question(app):
    environment = install(blocked=("einops",), slicer_version=(5, 12))
    try:
        widget = environment.open_module().widget
        sample_heart_with_scar(widget)
        assert widget.ui.environmentStatusLabel.text.endswith("\nApply first asks to install einops, then runs.")
        environment.dialogs.answers[:] = [OK]
        click(widget.ui.applyButton)
        assert [d.title for d in environment.dialogs.shown] == ["SynthTrust: install Python packages"]
        assert environment.pip.calls == [("pip_ensure", ["einops>=0.7"])]
        assert widget.controller.busy, "the run goes on after the install"
        widget.controller.cancel(wait=True)
    finally:
        environment.uninstall()


def test_a_declined_install_starts_no_run_and_says_how_to_install(app):
    environment = install(blocked=("einops",))
    try:
        widget = environment.open_module().widget
        sample_heart_with_scar(widget)
        environment.dialogs.answers[:] = [CANCEL]
        click(widget.ui.applyButton)
        texts = environment.dialogs.texts
        assert len(texts) == 2 and "einops>=0.7" in texts[0]
        assert texts[1].startswith("Could not start the run.\n\nNothing was installed")
        assert "slicer.util.pip_install" in texts[1]
        assert not widget.controller.busy and widget.ui.applyButton.text == "Apply" and environment.pip.calls == []
    finally:
        environment.uninstall()
