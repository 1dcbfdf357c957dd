"""The one-command demo, end to end (fast mode): report, metrics and a scene bundle that reopens."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPOSITORY = Path(__file__).resolve().parents[2]


def shipped_models() -> list:
    manifest = json.loads((REPOSITORY / "Resources" / "Models" / "manifest.json").read_text(encoding="utf-8"))
    return manifest.get("models", [])


@pytest.mark.skipif(not any(m["task"] == "cardiac-scar" for m in shipped_models()),
                    reason="the default segmenters are not trained yet (scripts/train_default_segmenters.sh)")
def test_demo_writes_report_metrics_and_a_scene_that_reopens(tmp_path):
    pytest.importorskip("nilearn", reason="the demo brain comes from the nilearn wheel")
    out = tmp_path / "demo"
    completed = subprocess.run([sys.executable, "-m", "synthtrust", "demo", "--out", str(out), "--fast"],
                               capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stderr[-2000:]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Trust over the variants" in report and "Empty-mask policy" in report
    for png in ("images/brain_tumour.png", "images/cardiac_scar.png"):
        assert (out / png).stat().st_size > 10_000
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    brain = metrics["cases"]["brain_tumour"]
    assert brain["variants"][0]["metrics"]["empty_policy"]["name"] == "brats"
    assert brain["variants"][0]["audits"]["off_target_change"]["voxels_changed"] == 0
    assert {"T1", "T2", "T5"} <= {v["factor"] for v in brain["trust"]["values"]}

    from synthtrust import scene
    from synthtrust.imaging.io import load_image

    reopened = scene.open_bundle(out / "scene.mrb")
    # The demo's runs reach the scene through the panel's run importer (synthtrust.scene.import_run).
    synthetic = reopened.node_by_name("brain tumour synthetic v1 (seed 0)")
    saved = load_image(out / "brain_tumour" / "synthetic.nii.gz")
    assert np.array_equal(scene.image_from_volume(synthetic).array, saved.array)
    assert scene.get_attributes(synthetic)["synthesis"]["engine"] == "template"
    rows = scene.table_rows(reopened.node_by_name("cardiac scar: results"))
    assert rows and {row["case"] for row in rows} == {"v1", "v2"} and all(row["T1"] == row["T1"] for row in rows)
    lesion = reopened.node_by_name("cardiac scar: intended lesion", "vtkMRMLSegmentationNode")
    assert scene.get_attributes(lesion)["edit"]["edit"] == "scar"
    assert reopened.node_by_name("cardiac scar: Dice per variant", "vtkMRMLPlotChartNode")
