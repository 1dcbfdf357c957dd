"""Users' data sets read from disk: each layout gives the same cases with the same voxels and labels, BraTS 2023
numbering is renumbered, patients never straddle a split, and a case with a missing channel, another grid or
an unknown label is refused with one line naming the case and the fix."""

from __future__ import annotations

import json

import numpy as np
import pytest
from dataset_folders import brats_folder, csv_manifest, emidec_folder, png_slices

from synthtrust.cli.main import main
from synthtrust.datasets import load_case, read_dataset, split_by_patient, training_dataset
from synthtrust.errors import InputError
from synthtrust.imaging.image import Image
from synthtrust.imaging.io import load_image, save_image


def test_brats_2021_and_2023_folders_read_as_the_same_cases_with_et_as_label_4(tmp_path):
    old = read_dataset(brats_folder(tmp_path / "b21", numbering=2021), "brain-tumor", ["flair", "t1c"])
    new = read_dataset(brats_folder(tmp_path / "b23", numbering=2023), "brain-tumor", ["flair", "t1c"])
    assert old.layout == new.layout == "brats" and len(old.cases) == len(new.cases) == 3
    first, second = load_case(old.cases[0], old), load_case(new.cases[0], new)
    assert np.array_equal(first.labels.array, second.labels.array)
    assert set(np.unique(second.labels.array)) == {0, 1, 2, 4}
    assert [c.name for c in first.channels] == ["flair", "t1c"]
    assert np.array_equal(first.channels[1].array, second.channels[1].array)


def test_emidec_folders_in_both_layouts_and_png_slices_are_read(tmp_path):
    official = read_dataset(emidec_folder(tmp_path / "official"), "cardiac-scar")
    flat = read_dataset(emidec_folder(tmp_path / "flat", official=False), "cardiac-scar")
    assert official.layout == flat.layout == "emidec" and len(official.cases) == len(flat.cases) == 2
    assert np.array_equal(load_case(official.cases[1], official).labels.array,
                          load_case(flat.cases[1], flat).labels.array)
    slices = read_dataset(png_slices(tmp_path / "png"), "cardiac-scar")
    assert slices.layout == "slices" and len(slices.cases) == 8
    assert len({c.patient for c in slices.cases}) == 4 and slices.cases[0].patient == "Case_P000"
    case = load_case(slices.cases[1], slices)
    assert case.channels[0].array.shape == (1, 48, 48) and set(np.unique(case.labels.array)) == {0, 1, 2, 3}


def test_a_csv_manifest_names_channels_by_column_and_reads_relative_paths(tmp_path):
    dataset = read_dataset(csv_manifest(tmp_path), "brain-tumor", ["t1c"])
    assert dataset.layout == "csv" and [c.name for c in dataset.cases][:1] == ["BraTS-2021-000"]
    case = load_case(dataset.cases[0], dataset)
    expected = load_image(tmp_path / "cases" / "BraTS-2021-000" / "BraTS-2021-000_t1ce.nii.gz")
    assert [c.name for c in case.channels] == ["t1c"] and np.array_equal(case.channels[0].array, expected.array)


def test_a_split_keeps_each_patient_on_one_side_and_is_seeded(tmp_path):
    dataset = read_dataset(png_slices(tmp_path / "png", patients=6, slices=3), "cardiac-scar")
    train, test = split_by_patient(dataset.cases, 0.34, seed=3)
    assert not {c.patient for c in train} & {c.patient for c in test}
    assert len({c.patient for c in test}) == 2 and len(train) + len(test) == 18
    again = split_by_patient(dataset.cases, 0.34, seed=3)
    assert [c.name for c in again[1]] == [c.name for c in test]
    made = training_dataset(dataset, 0.34, seed=3)
    assert [s.name for s in made.validation] == [c.name for c in test] and made.task == "cardiac-scar"


def test_a_brats_case_without_a_channel_is_refused_naming_it(tmp_path):
    root = brats_folder(tmp_path / "b", channels=("flair", "t1c"))
    with pytest.raises(InputError, match=r"BraTS-2021-000 has no t1 image.*leave t1 out of --channels"):
        read_dataset(root, "brain-tumor", ["flair", "t1"])


def test_a_channel_on_another_grid_is_refused(tmp_path):
    root = brats_folder(tmp_path / "b")
    path = root / "BraTS-2021-001" / "BraTS-2021-001_t1ce.nii.gz"
    save_image(Image.from_array(np.zeros((12, 16, 8), np.float32), (2.0, 2.0, 2.0)), path)
    dataset = read_dataset(root, "brain-tumor", ["flair", "t1c"])
    with pytest.raises(InputError, match=r"BraTS-2021-001: the t1c image is on another grid.*resample"):
        load_case(dataset.cases[1], dataset)


def test_an_unknown_label_is_refused_naming_the_schema(tmp_path):
    root = png_slices(tmp_path / "png", patients=2, slices=1)
    import SimpleITK as sitk

    sitk.WriteImage(sitk.GetImageFromArray(np.full((48, 48), 7, np.uint8)),
                    str(root / "trainannot" / "Case_P001_slice000.png"))
    dataset = read_dataset(root, "cardiac-scar")
    with pytest.raises(InputError, match=r"holds label\(s\) \[7\], unknown to the emidec schema"):
        load_case(dataset.cases[1], dataset)


def test_a_folder_of_no_known_layout_is_refused_listing_the_layouts(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "notes.txt").write_text("nothing here", encoding="utf-8")
    with pytest.raises(InputError, match="matches no known layout: BraTS case folders"):
        read_dataset(tmp_path / "x", "brain-tumor")
    with pytest.raises(InputError, match="does not exist"):
        read_dataset(tmp_path / "missing", "brain-tumor")


def test_train_segmenter_trains_on_a_brats_folder_and_validates_on_held_out_patients(tmp_path, capsys):
    root = brats_folder(tmp_path / "b", cases=3, numbering=2023)
    argv = ["train-segmenter", "--task", "brain-tumor", "--channels", "flair,t1c", "--dataset", str(root),
            "--iterations", "2", "--threads", "1", "--validation-fraction", "0.34", "--out", str(tmp_path / "m")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    summary = json.loads(out[out.index("{"):])
    assert list(summary["validation_dice"]) == ["NCR", "ED", "ET", "TC", "WT"]
    card = (tmp_path / "m" / "brain-tumor-flair-t1c-unet.md").read_text(encoding="utf-8")
    held_out = [line for line in card.splitlines() if line.startswith("Per case:")]
    assert len(held_out) == 1 and held_out[0].count("BraTS-2023-") == 1  # one of three patients held out
    assert (tmp_path / "m" / "brain-tumor-flair-t1c-unet.safetensors").is_file()
