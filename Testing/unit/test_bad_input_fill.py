"""fill-healthy with the model-free engines: the mirror fill through the CLI (outputs, record), and what it
refuses before any work: exit 2, one line, the folder as it was (``refusals.refuse``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from refusals import refuse
from test_healthy_fill import region_at, symmetric_head

from synthtrust.cli.main import main
from synthtrust.imaging import io
from synthtrust.imaging.image import Image


@pytest.fixture
def head_files(tmp_path):
    head = symmetric_head().astype(np.float32)
    region = region_at((20, 24, 32))
    image = tmp_path / "t1.nii.gz"
    io.save_image(Image.from_array(np.where(region, 0, head).astype(np.float32), spacing=(2.0, 2.0, 2.0)), image)
    mask = tmp_path / "region.nii.gz"
    io.save_image(Image.from_array(region.astype(np.uint8), spacing=(2.0, 2.0, 2.0)), mask)
    return image, mask, head, region


def test_fill_healthy_fills_a_brain_by_the_mirror_by_default_and_records_it(tmp_path, head_files, capsys):
    image, mask, head, region = head_files
    out = tmp_path / "filled"
    assert main(["fill-healthy", "--image", str(image), "--region", str(mask), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["fill.json", "filled_0.nii.gz"]
    filled = io.load_image(out / "filled_0.nii.gz").array
    original = io.load_image(image).array
    assert np.array_equal(filled[~region], original[~region])
    # The mirror brings the hidden ventricle back: inside the region it is far closer to the truth than 0.
    assert np.abs(filled[region] - head[region]).mean() < 0.2 * np.abs(head[region]).mean()
    record = json.loads((out / "fill.json").read_text(encoding="utf-8"))
    assert record["parameters"]["engine"] == "mirror" and "steps" not in record["parameters"]
    assert record["provenance"]["engine"] == "mirror fill" and record["provenance"]["mirror_axis_zyx"] == 2
    assert "by the mirror fill" in capsys.readouterr().out


def test_fill_healthy_refuses_the_mirror_for_a_heart(tmp_path, head_files, capfd):
    image, mask, _, _ = head_files
    refuse(capfd, ["fill-healthy", "--task", "cardiac-scar", "--engine", "mirror", "--image", image, "--region",
                   mask, "--out", tmp_path / "filled"], tmp_path, "mirror fill", "--engine diffusion")


@pytest.mark.parametrize("engine", ["mirror", "smooth", "mean"])
def test_fill_healthy_refuses_a_generator_model_with_a_model_free_engine(tmp_path, head_files, capfd, engine):
    image, mask, _, _ = head_files
    refuse(capfd, ["fill-healthy", "--engine", engine, "--model", image, "--image", image, "--region", mask,
                   "--out", tmp_path / "filled"], tmp_path, "--model", f"{engine} fill")


def test_fill_healthy_refuses_an_unknown_engine(tmp_path, head_files, capfd):
    image, mask, _, _ = head_files
    refuse(capfd, ["fill-healthy", "--engine", "blur", "--image", image, "--region", mask, "--out",
                   tmp_path / "filled"], tmp_path, "--engine", "blur")
