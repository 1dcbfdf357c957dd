"""The bad-input battery, CLI part: every command refuses an output that would destroy an input or cannot be
written, and every out-of-range number, before any work: exit 2, one line naming the problem, the folder
exactly as it was (``refusals.refuse``). Tiny images; no case loads a model."""

from __future__ import annotations

import argparse
import os

import numpy as np
import pytest
from refusals import refuse

from synthtrust.cli import place
from synthtrust.cli.common import Bounded, BoundedList
from synthtrust.cli.main import build_parser, main
from synthtrust.imaging import io
from synthtrust.imaging.image import Image

SHAPE = (12, 14, 16)


def write(path, array, spacing=(1.0, 1.0, 1.0)):
    io.save_image(Image.from_array(array, spacing), path)
    return path


@pytest.fixture
def brain(tmp_path):
    """A tiny brain image, a brain mask covering all of it, and a BraTS lesion."""
    rng = np.random.default_rng(0)
    image = write(tmp_path / "t1.nii.gz", (rng.random(SHAPE) * 100 + 50).astype(np.float32))
    mask = write(tmp_path / "brain.nii.gz", np.ones(SHAPE, np.uint8))
    lesion = np.zeros(SHAPE, np.uint8)
    lesion[4:8, 5:9, 6:10] = 2
    return image, mask, write(tmp_path / "lesion.nii.gz", lesion)


@pytest.fixture
def heart(tmp_path):
    """A tiny LGE-like image and an EMIDEC label map (blood pool inside a myocardium ring) on its grid."""
    z, y, x = np.mgrid[:SHAPE[0], :SHAPE[1], :SHAPE[2]]
    radius = np.hypot(y - 7, x - 8)
    labels = np.where(radius < 3, 1, np.where(radius < 5, 2, 0)).astype(np.uint8)
    labels[:2] = 0
    image = write(tmp_path / "lge.nii.gz", (labels * 40 + 10).astype(np.float32))
    return image, write(tmp_path / "labels.nii.gz", labels)


def place_tumor(image, mask, out, *extra):
    return ["place-tumor", "--image", image, "--brain-mask", mask, "--coordinates", "voxel", "--center", "8,7,6",
            "--size", "4", "--out", out, *extra]


def synthesize(image, lesion, out, *extra):
    return ["synthesize", "--image", image, "--lesion", lesion, "--out", out, *extra]


def sweep_scar(image, labels, out, *extra):
    return ["sweep", "--task", "cardiac-scar", "--image", image, "--labels", labels, "--segments", "1",
            "--transmurality", "0.5", "--out", out, *extra]


def evaluate(reference, prediction, out, *extra):
    return ["evaluate", "--reference", reference, "--prediction", prediction, "--schema", "brats", "--json", out,
            *extra]


def segment(image, out, *extra):
    return ["segment", "--image", image, "--task", "brain-tumor", "--out", out, *extra]


# Outputs that would destroy an input -----------------------------------------------------------------------------

def test_place_tumor_refuses_to_overwrite_its_image(tmp_path, capfd, brain):
    image, mask, _ = brain
    refuse(capfd, place_tumor(image, mask, image), tmp_path, "--out", "is the input", "choose another output path")


def test_place_tumor_refuses_an_output_that_is_a_symbolic_link_to_its_image(tmp_path, capfd, brain):
    image, mask, _ = brain
    (tmp_path / "link.nii.gz").symlink_to(image)
    refuse(capfd, place_tumor(image, mask, tmp_path / "link.nii.gz"), tmp_path, "link.nii.gz", "is the input")


def test_place_tumor_refuses_an_output_that_is_a_hard_link_to_its_brain_mask(tmp_path, capfd, brain):
    image, mask, _ = brain
    os.link(mask, tmp_path / "hard.nii.gz")
    refuse(capfd, place_tumor(image, mask, tmp_path / "hard.nii.gz"), tmp_path, "is the input", "through a link")


def test_place_tumor_refuses_the_input_spelt_another_way(tmp_path, capfd, brain):
    image, mask, _ = brain
    (tmp_path / "sub").mkdir()
    refuse(capfd, place_tumor(image, mask, tmp_path / "sub" / ".." / "t1.nii.gz"), tmp_path, "is the input")


def test_place_scar_refuses_to_overwrite_its_labels(tmp_path, capfd, heart):
    _, labels = heart
    refuse(capfd, ["place-scar", "--labels", labels, "--segments", "1", "--out", labels], tmp_path, "is the input")


def test_segment_refuses_to_overwrite_its_image(tmp_path, capfd, brain):
    refuse(capfd, segment(brain[0], brain[0]), tmp_path, "--out", "is the input")


def test_segment_refuses_probabilities_written_over_its_image(tmp_path, capfd, brain):
    refuse(capfd, segment(brain[0], tmp_path / "p.nii.gz", "--probabilities", brain[0]), tmp_path,
           "--probabilities", "is the input")


def test_segment_refuses_probabilities_and_labels_in_one_file(tmp_path, capfd, brain):
    out = tmp_path / "p.nii.gz"
    refuse(capfd, segment(brain[0], out, "--probabilities", out), tmp_path, "--out and --probabilities")


def test_segment_refuses_probabilities_in_a_format_no_image_writer_knows(tmp_path, capfd, brain):
    (tmp_path / "net.json").write_text("{}", encoding="utf-8")
    refuse(capfd, segment(brain[0], tmp_path / "pred.nii.gz", "--probabilities", tmp_path / "net.json"), tmp_path,
           "--probabilities", "no known writer")


def test_evaluate_refuses_its_json_written_over_the_reference(tmp_path, capfd, brain):
    refuse(capfd, evaluate(brain[2], brain[2], brain[2]), tmp_path, "--json", "lesion.nii.gz")


def test_evaluate_refuses_its_json_written_over_an_inputs_provenance(tmp_path, capfd, brain):
    record = tmp_path / "lesion.provenance.json"
    record.write_text('{"command": "place-tumor"}\n', encoding="utf-8")
    refuse(capfd, evaluate(brain[2], brain[2], record), tmp_path, "is the provenance record of the input")


def test_sweep_refuses_to_write_its_table_over_the_image(tmp_path, capfd, heart):
    image, labels = heart
    refuse(capfd, sweep_scar(image, labels, image), tmp_path, "--out", "lge.nii.gz")


def test_sweep_refuses_a_table_that_is_a_link_to_an_input(tmp_path, capfd, heart):
    image, labels = heart
    (tmp_path / "table.csv").symlink_to(labels)
    refuse(capfd, sweep_scar(image, labels, tmp_path / "table.csv"), tmp_path, "is the input")


def test_synthesize_refuses_an_output_folder_whose_variant_would_replace_the_image(tmp_path, capfd, brain):
    folder = tmp_path / "synthetic"
    folder.mkdir()
    image = write(folder / "variant_0_0.nii.gz", np.ones(SHAPE, np.float32))
    refuse(capfd, synthesize(image, brain[2], folder), tmp_path, "variant_0_0.nii.gz", "is the input")


def test_fill_healthy_refuses_an_output_folder_that_is_an_input(tmp_path, capfd, brain):
    refuse(capfd, ["fill-healthy", "--image", brain[0], "--region", brain[2], "--out", brain[0]], tmp_path,
           "is a file")


# Outputs that cannot be written -----------------------------------------------------------------------------------

def test_place_tumor_refuses_a_folder_as_its_output_file(tmp_path, capfd, brain):
    (tmp_path / "labels").mkdir()
    refuse(capfd, place_tumor(*brain[:2], tmp_path / "labels"), tmp_path, "is a folder", "give a file path")


def test_place_tumor_refuses_an_extension_no_writer_knows(tmp_path, capfd, brain):
    refuse(capfd, place_tumor(*brain[:2], tmp_path / "labels.txt"), tmp_path, "no known writer", ".nii.gz")


def test_place_tumor_refuses_an_output_under_a_file(tmp_path, capfd, brain):
    refuse(capfd, place_tumor(*brain[:2], tmp_path / "t1.nii.gz" / "labels.nii.gz"), tmp_path,
           "is a file, not a folder")


def test_place_scar_refuses_an_output_whose_provenance_record_is_a_folder(tmp_path, capfd, heart):
    (tmp_path / "scar.provenance.json").mkdir()
    refuse(capfd, ["place-scar", "--labels", heart[1], "--segments", "1", "--out", tmp_path / "scar.nii.gz"],
           tmp_path, "scar.provenance.json", "is a folder")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders, so this cannot be shown as root")
def test_place_tumor_refuses_an_unwritable_folder(tmp_path, capfd, brain):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        refuse(capfd, place_tumor(*brain[:2], locked / "labels.nii.gz"), tmp_path, "not writable")
    finally:
        locked.chmod(0o700)


def test_a_folder_the_system_reports_unwritable_is_refused_for_files_and_folders(tmp_path, capfd, brain, monkeypatch):
    """Root passes any permission check, so here the answer of os.access (what the check asks) is stubbed."""
    from synthtrust import outputs

    monkeypatch.setattr(outputs.os, "access", lambda path, mode: False)
    refuse(capfd, place_tumor(*brain[:2], tmp_path / "labels.nii.gz"), tmp_path, "not writable by you")
    refuse(capfd, synthesize(brain[0], brain[2], tmp_path), tmp_path, "not writable by you")


def test_segment_refuses_an_output_folder_where_a_file_is_meant(tmp_path, capfd, brain):
    refuse(capfd, segment(brain[0], tmp_path), tmp_path, "is a folder")


def test_evaluate_refuses_a_folder_as_its_json(tmp_path, capfd, brain):
    (tmp_path / "metrics").mkdir()
    refuse(capfd, evaluate(brain[2], brain[2], tmp_path / "metrics"), tmp_path, "--json", "is a folder")


def test_evaluate_refuses_a_json_with_another_extension(tmp_path, capfd, brain):
    refuse(capfd, evaluate(brain[2], brain[2], tmp_path / "metrics.txt"), tmp_path, "no known writer", ".json")


def test_sweep_refuses_a_table_that_is_not_csv(tmp_path, capfd, heart):
    refuse(capfd, sweep_scar(*heart, tmp_path / "sweep.txt"), tmp_path, "no known writer", ".csv")


def test_synthesize_refuses_an_output_folder_that_is_a_file(tmp_path, capfd, brain):
    refuse(capfd, synthesize(brain[0], brain[2], brain[2]), tmp_path, "is a file", "folder")


def test_synthesize_refuses_an_output_folder_under_a_file(tmp_path, capfd, brain):
    refuse(capfd, synthesize(brain[0], brain[2], tmp_path / "t1.nii.gz" / "out"), tmp_path, "is a file, not a folder")


def test_demo_refuses_an_output_folder_that_is_a_file(tmp_path, capfd, brain):
    refuse(capfd, ["demo", "--out", brain[0], "--fast"], tmp_path, "--out", "is a file")


# A failure while writing leaves nothing ------------------------------------------------------------------------

def test_a_provenance_that_cannot_be_written_leaves_no_label_file_and_the_old_output_untouched(
        tmp_path, capfd, brain, monkeypatch):
    out = tmp_path / "labels.nii.gz"
    out.write_bytes(b"an earlier result")

    def disk_full(data, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(place, "write_json", disk_full)
    refuse(capfd, place_tumor(*brain[:2], out), tmp_path, "No space left on device", "nothing was written")
    assert out.read_bytes() == b"an earlier result"


def test_place_tumor_publishes_the_label_file_with_its_provenance(tmp_path, capfd, brain):
    out = tmp_path / "new" / "labels.nii.gz"
    assert main([str(a) for a in place_tumor(*brain[:2], out)]) == 0
    assert out.is_file() and (tmp_path / "new" / "labels.provenance.json").is_file()
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["labels.nii.gz", "labels.provenance.json"]


# Inputs the single-edit commands refuse, refused by sweep the same way ------------------------------------------

def test_sweep_refuses_labels_on_another_grid_as_place_scar_would_need_them(tmp_path, capfd, heart):
    image, labels = heart
    coarse = io.load_image(labels)
    other = write(tmp_path / "coarse.nii.gz", coarse.array[::2, ::2, ::2].copy(), spacing=(2.0, 2.0, 2.0))
    refuse(capfd, sweep_scar(image, other, tmp_path / "sweep.csv"), tmp_path, "coarse.nii.gz", "spacing")


@pytest.mark.parametrize("command", ["place-scar", "sweep"])
def test_labels_outside_the_schema_are_refused_by_place_scar_and_sweep_alike(tmp_path, capfd, heart, command):
    image, labels = heart
    bad = io.load_image(labels).array.copy()
    bad[5, 5, 5] = 7
    bad_path = write(tmp_path / "bad.nii.gz", bad)
    argv = (["place-scar", "--labels", bad_path, "--segments", "1", "--out", tmp_path / "scar.nii.gz"]
            if command == "place-scar" else sweep_scar(image, bad_path, tmp_path / "sweep.csv"))
    refuse(capfd, argv, tmp_path, "labels [7]")


@pytest.mark.parametrize("command", ["place-scar", "sweep"])
@pytest.mark.parametrize("value", ["2.0", "0", "-0.5", "nan"])
def test_a_transmurality_outside_0_1_is_refused_by_place_scar_and_sweep_alike(tmp_path, capfd, heart, command,
                                                                               value):
    image, labels = heart
    argv = (["place-scar", "--labels", labels, "--segments", "1", "--out", tmp_path / "scar.nii.gz"]
            if command == "place-scar" else sweep_scar(image, labels, tmp_path / "sweep.csv"))
    argv += [f"--transmurality={value}"]
    refuse(capfd, argv, tmp_path, "--transmurality", "a number > 0 and <= 1")


def test_sweep_refuses_labels_without_a_myocardium(tmp_path, capfd, heart):
    empty = write(tmp_path / "empty.nii.gz", np.zeros(SHAPE, np.uint8))
    refuse(capfd, sweep_scar(heart[0], empty, tmp_path / "sweep.csv"), tmp_path, "no myocardium")


def test_sweep_refuses_a_tumour_centre_outside_the_image_as_place_tumor_does(tmp_path, capfd, brain):
    image, mask, _ = brain
    refuse(capfd, ["sweep", "--task", "brain-tumor", "--image", image, "--brain-mask", mask, "--coordinates",
                   "voxel", "--centers", "80,7,6", "--out", tmp_path / "sweep.csv"], tmp_path, "outside the image")
    refuse(capfd, place_tumor(image, mask, tmp_path / "t.nii.gz", "--center", "80,7,6"), tmp_path,
           "outside the image")


# Options out of their range ------------------------------------------------------------------------------------

OUT_OF_RANGE = [
    ("place-tumor", "--size", "-3"), ("place-tumor", "--irregularity", "2"), ("place-tumor", "--edema-mm", "-1"),
    ("place-tumor", "--rim-mm", "0"), ("place-tumor", "--seed", "-1"), ("place-scar", "--extent", "1.5"),
    ("place-scar", "--mvo", "-0.1"), ("place-scar", "--segments", "18"),
    ("synthesize", "--variants", "0"), ("synthesize", "--steps", "0"), ("synthesize", "--candidates", "-1"),
    ("synthesize", "--threads", "0"), ("synthesize", "--guidance", "-1"), ("synthesize", "--resampling", "0"),
    ("synthesize", "--quality-threshold", "1.5"), ("synthesize", "--guidance-steps", "0.8,0.2"),
    ("synthesize", "--modalities", "xyz"),
    ("fill-healthy", "--strength", "2"), ("fill-healthy", "--strength", "0"), ("fill-healthy", "--steps", "0"),
    ("fill-healthy", "--threads", "0"),
    ("sweep", "--variants", "0"), ("sweep", "--candidates", "-1"), ("sweep", "--sizes", "0"),
    ("sweep", "--steps", "0"), ("sweep", "--extent", "0"),
    ("evaluate", "--tolerance-mm", "-1"), ("demo", "--seed", "-1"),
]


@pytest.mark.parametrize(("command", "option", "value"), OUT_OF_RANGE)
def test_an_option_out_of_its_range_is_refused_by_the_parser(tmp_path, capfd, brain, heart, command, option, value):
    image, mask, lesion = brain
    base = {
        "place-tumor": place_tumor(image, mask, tmp_path / "t.nii.gz"),
        "place-scar": ["place-scar", "--labels", heart[1], "--segments", "1", "--out", tmp_path / "s.nii.gz"],
        "synthesize": synthesize(image, lesion, tmp_path / "synthetic"),
        "fill-healthy": ["fill-healthy", "--image", image, "--region", lesion, "--out", tmp_path / "filled"],
        "sweep": sweep_scar(*heart, tmp_path / "sweep.csv"),
        "evaluate": evaluate(lesion, lesion, tmp_path / "m.json"),
        "demo": ["demo", "--out", tmp_path / "demo", "--fast"],
    }[command]
    refuse(capfd, [*base, f"{option}={value}"], tmp_path, option, value)


def _numeric_actions():
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    for name, subparser in commands.items():
        for action in subparser._actions:
            yield name, action


def test_every_numeric_option_of_every_command_has_a_checked_range_shown_in_its_help():
    ranged = 0
    for name, action in _numeric_actions():
        if action.choices is None:  # a number among listed choices (e.g. --numbering) needs no range
            assert action.type not in (int, float), f"{name} {action.option_strings} is a bare {action.type.__name__}"
        if isinstance(action.type, (Bounded, BoundedList)):
            ranged += 1
            assert f"range: {action.type.describe()}" in (action.help or ""), (name, action.option_strings)
    assert ranged >= 40, ranged


def test_the_range_of_an_option_appears_in_the_commands_help(capsys):
    with pytest.raises(SystemExit):
        main(["synthesize", "--help"])
    assert "range: an integer >= 1 and <= 64" in " ".join(capsys.readouterr().out.split())


def test_a_published_output_folder_gets_the_permissions_of_any_new_folder(tmp_path):
    from synthtrust.outputs import publish

    umask = os.umask(0o022)
    try:
        with publish() as outputs:
            (outputs.folder(tmp_path / "out") / "a.json").write_text("{}", encoding="utf-8")
            outputs.file(tmp_path / "b.json")
    finally:
        os.umask(umask)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "b.json").stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.json", "out"]
