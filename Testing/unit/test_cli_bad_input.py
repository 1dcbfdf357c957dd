"""Bad input to the CLI: one clear line, exit code 2, no traceback, no output file left behind."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import SimpleITK as sitk

from synthtrust.cli.main import main
from synthtrust.imaging import io
from synthtrust.imaging.image import Image


def write(path, array, spacing=(1.0, 1.0, 1.0)):
    io.save_image(Image.from_array(array, spacing), path)
    return str(path)


@pytest.fixture
def label_pair(tmp_path):
    reference = np.zeros((12, 14, 16), np.uint8)
    reference[3:8, 4:9, 5:11] = 2
    reference[4:7, 5:8, 6:9] = 4
    prediction = np.roll(reference, 1, axis=2)
    return write(tmp_path / "ref.nii.gz", reference), write(tmp_path / "pred.nii.gz", prediction)


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.err.strip()


def assert_clear_refusal(code, message, out_path, *expected):
    assert code == 2
    assert len(message.splitlines()) == 1, message
    assert "Traceback" not in message
    for text in expected:
        assert text in message, message
    assert not out_path.exists()
    assert not list(out_path.parent.glob(f".{out_path.name}*")), "a temporary file was left behind"


def test_evaluate_writes_metrics_and_exits_zero(tmp_path, capsys, label_pair):
    out = tmp_path / "metrics.json"
    code, _ = run_cli(capsys, "evaluate", "--reference", label_pair[0], "--prediction", label_pair[1],
                      "--schema", "brats", "--json", out)
    assert code == 0 and out.exists()


def test_evaluate_accepts_an_empty_prediction_and_follows_the_empty_mask_policy(tmp_path, capsys, label_pair):
    empty = write(tmp_path / "empty.nii.gz", np.zeros((12, 14, 16), np.uint8))
    out = tmp_path / "metrics.json"
    code, _ = run_cli(capsys, "evaluate", "--reference", label_pair[0], "--prediction", empty,
                      "--schema", "brats", "--json", out)
    assert code == 0
    import json

    metrics = json.loads(out.read_text(encoding="utf-8"))
    assert metrics["regions"]["WT"]["dice"] == 0.0
    assert metrics["empty_policy"]


def test_grids_that_differ_are_refused_naming_both_geometries(tmp_path, capsys, label_pair):
    other = write(tmp_path / "other.nii.gz", np.zeros((12, 14, 16), np.uint8), spacing=(0.5, 0.5, 2.0))
    out = tmp_path / "metrics.json"
    code, message = run_cli(capsys, "evaluate", "--reference", label_pair[0], "--prediction", other,
                            "--schema", "brats", "--json", out)
    assert_clear_refusal(code, message, out, "spacing 0.5x0.5x2 mm", "spacing 1x1x1 mm", "--resample")


def test_resampling_on_request_lets_different_grids_be_evaluated(tmp_path, capsys, label_pair):
    other = write(tmp_path / "other.nii.gz", np.zeros((12, 14, 16), np.uint8), spacing=(0.5, 0.5, 2.0))
    out = tmp_path / "metrics.json"
    code, _ = run_cli(capsys, "evaluate", "--reference", label_pair[0], "--prediction", other,
                      "--schema", "brats", "--json", out, "--resample")
    assert code == 0 and out.exists()


def test_labels_outside_the_schema_are_refused(tmp_path, capsys, label_pair):
    out = tmp_path / "metrics.json"
    bad = np.zeros((12, 14, 16), np.uint8)
    bad[2, 2, 2] = 7
    code, message = run_cli(capsys, "evaluate", "--reference", label_pair[0], "--prediction",
                            write(tmp_path / "bad.nii.gz", bad), "--schema", "brats", "--json", out)
    assert_clear_refusal(code, message, out, "labels [7]")


def test_a_two_dimensional_file_is_refused(tmp_path, capsys, label_pair):
    flat = tmp_path / "flat.nii.gz"
    sitk.WriteImage(sitk.Image([16, 14], sitk.sitkUInt8), str(flat))
    out = tmp_path / "metrics.json"
    code, message = run_cli(capsys, "evaluate", "--reference", label_pair[0], "--prediction", flat,
                            "--schema", "brats", "--json", out)
    assert_clear_refusal(code, message, out, "2 dimensions")


def test_nan_voxels_are_refused(tmp_path, capsys, label_pair):
    array = np.zeros((12, 14, 16), np.float32)
    array[0, 0, 0] = np.nan
    path = tmp_path / "nan.nrrd"
    sitk.WriteImage(io.to_sitk(Image.from_array(array)), str(path))
    out = tmp_path / "metrics.json"
    code, message = run_cli(capsys, "evaluate", "--reference", label_pair[0], "--prediction", path,
                            "--schema", "brats", "--json", out)
    assert_clear_refusal(code, message, out, "NaN or infinite")


def test_zero_spacing_in_a_header_is_refused(tmp_path, capsys, label_pair):
    path = tmp_path / "zero.nhdr"
    raw = tmp_path / "zero.raw"
    raw.write_bytes(np.zeros((12, 14, 16), np.uint8).tobytes())
    path.write_text("NRRD0004\ntype: uint8\ndimension: 3\nspace: left-posterior-superior\nsizes: 16 14 12\n"
                    "space directions: (0,0,0) (0,1,0) (0,0,1)\nkinds: domain domain domain\n"
                    "endian: little\nencoding: raw\nspace origin: (0,0,0)\ndata file: zero.raw\n", encoding="utf-8")
    out = tmp_path / "metrics.json"
    code, message = run_cli(capsys, "evaluate", "--reference", label_pair[0], "--prediction", path,
                            "--schema", "brats", "--json", out)
    assert code == 2 and len(message.splitlines()) == 1 and not out.exists()
    assert "spacing" in message or "cannot read" in message


def test_a_corrupt_file_is_refused(tmp_path, capsys, label_pair):
    corrupt = tmp_path / "corrupt.nii.gz"
    corrupt.write_bytes(gzip.compress(b"\x00" * 50))
    out = tmp_path / "metrics.json"
    code, message = run_cli(capsys, "evaluate", "--reference", corrupt, "--prediction", label_pair[1],
                            "--schema", "brats", "--json", out)
    assert_clear_refusal(code, message, out, "corrupt.nii.gz")


def test_an_image_too_large_for_memory_is_refused_before_allocating(tmp_path, capsys, label_pair, monkeypatch):
    monkeypatch.setattr(io, "available_memory_bytes", lambda: 1024)
    out = tmp_path / "metrics.json"
    code, message = run_cli(capsys, "evaluate", "--reference", label_pair[0], "--prediction", label_pair[1],
                            "--schema", "brats", "--json", out)
    assert_clear_refusal(code, message, out, "GiB of memory")


@pytest.mark.parametrize("lesion_kind", ["empty", "everything"])
def test_synthesis_refuses_an_empty_or_all_foreground_lesion(tmp_path, capsys, lesion_kind):
    rng = np.random.default_rng(0)
    image = write(tmp_path / "t1.nii.gz", (rng.random((12, 14, 16)) * 100).astype(np.float32))
    lesion = np.zeros((12, 14, 16), np.uint8) if lesion_kind == "empty" else np.full((12, 14, 16), 2, np.uint8)
    out = tmp_path / "synthetic"
    code, message = run_cli(capsys, "synthesize", "--image", image, "--lesion",
                            write(tmp_path / "lesion.nii.gz", lesion), "--out", out)
    assert code == 2 and len(message.splitlines()) == 1 and "Traceback" not in message
    assert not out.exists() and not list(tmp_path.glob(".synthetic*"))


def test_synthesis_refuses_a_lesion_on_another_grid_unless_asked_to_resample(tmp_path, capsys):
    rng = np.random.default_rng(0)
    image = write(tmp_path / "t1.nii.gz", (rng.random((12, 14, 16)) * 100).astype(np.float32))
    lesion = np.zeros((6, 7, 8), np.uint8)
    lesion[2:4, 2:5, 3:6] = 2
    coarse = write(tmp_path / "lesion.nii.gz", lesion, spacing=(2.0, 2.0, 2.0))
    out = tmp_path / "synthetic"
    code, message = run_cli(capsys, "synthesize", "--image", image, "--lesion", coarse, "--out", out)
    assert code == 2 and "--resample" in message and not out.exists()
    code, _ = run_cli(capsys, "synthesize", "--image", image, "--lesion", coarse, "--out", out, "--resample")
    assert code == 0 and (out / "variant_0_0.nii.gz").exists() and (out / "synthesis.json").exists()


def test_a_refused_evaluation_leaves_an_earlier_metrics_file_untouched(tmp_path, capfd, label_pair):
    from refusals import refuse

    out = tmp_path / "metrics.json"
    out.write_text('{"earlier": true}\n', encoding="utf-8")
    other = write(tmp_path / "other.nii.gz", np.zeros((12, 14, 16), np.uint8), spacing=(0.5, 0.5, 2.0))
    refuse(capfd, ["evaluate", "--reference", label_pair[0], "--prediction", other, "--schema", "brats",
                   "--json", out], tmp_path, "--resample")
    assert out.read_text(encoding="utf-8") == '{"earlier": true}\n'


def test_an_evaluation_replaces_an_earlier_metrics_file_in_one_step(tmp_path, capsys, label_pair):
    out = tmp_path / "metrics.json"
    out.write_text('{"earlier": true}\n', encoding="utf-8")
    code, _ = run_cli(capsys, "evaluate", "--reference", label_pair[0], "--prediction", label_pair[1],
                      "--schema", "brats", "--json", out)
    assert code == 0 and "regions" in out.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json", "pred.nii.gz", "ref.nii.gz"]
