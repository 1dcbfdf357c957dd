"""Our BraTS HD95 and lesion-wise scores equal the official BraTS evaluation package on generated cases.

The official package (``brats-evaluation``, built on ``panoptica``) is AGPL: a test-only dependency pinned
in requirements-test.lock, never imported by the product (the last test checks that). Its known
differences, which docs/metrics-and-trust.md explains and these tests pin down:
- its whole-region ("global") metrics ignore the voxel spacing (unit spacing, NSD at 0.5 voxel), so on
  anisotropic images they equal ours computed at unit spacing;
- it reports inf (and NaN) where our empty-mask policy writes its worst distance (and its both-empty values).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

panoptica = pytest.importorskip(
    "panoptica", reason="the official BraTS evaluation package is not installed (CI installs it from "
                        "requirements-test.lock: pip install --no-deps -r requirements-test.lock)")
pytest.importorskip("brats_evaluation", reason="brats-evaluation is not installed (see requirements-test.lock)")

from synthtrust.labels.schema import brats_schema  # noqa: E402
from synthtrust.metrics import BRATS_LESION_RULES, BRATS_POLICY, evaluate_labels  # noqa: E402

REPOSITORY = Path(__file__).resolve().parents[2]
# our BraTS 2023 label regions -> the official glioma configuration's groups
OFFICIAL_GROUPS = {"NCR": "netc", "ED": "snfh", "ET": "et", "TC": "tc", "WT": "wt"}
LESION_FIELDS = {"tp": "tp", "fp": "fp", "fn": "fn", "f1": "rq", "lesion_dice": "sq_dsc", "lesion_dice_std": "sq_dsc_std",
                 "lesion_hd95": "sq_hd95", "lesion_hd95_std": "sq_hd95_std", "lesion_nsd": "sq_nsd",
                 "lesion_nsd_std": "sq_nsd_std", "panoptic_quality": "pq_dsc", "precision": "prec", "recall": "rec"}


@pytest.fixture(scope="module")
def official():
    from importlib.resources import files

    from panoptica.utils.citation_reminder import disable_citation_reminder

    disable_citation_reminder()
    config = files("brats_evaluation").joinpath("configs", "config_gli.yaml")
    return panoptica.Panoptica_Evaluator.load_from_config(str(config))


def _official_scores(evaluator, reference, prediction, spacing=None) -> dict[str, dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = evaluator.evaluate(prediction, reference, voxelspacing=spacing, verbose=False)
    return {region: results[group].to_dict() for region, group in OFFICIAL_GROUPS.items()}


def _box(labels, value, start, size):
    labels[tuple(slice(s, s + n) for s, n in zip(start, size, strict=True))] = value


def _ball(labels, value, center, radius, spacing=(1.0, 1.0, 1.0)):
    grid = np.ogrid[tuple(slice(0, n) for n in labels.shape)]
    distance = sum(((g - c) * s) ** 2 for g, c, s in zip(grid, center, spacing, strict=True))
    labels[distance <= radius**2] = value


def multi_lesion_case():
    """Three tumours, one prediction split in two, one merged with a neighbour, one missed, one invented."""
    reference, prediction = np.zeros((44, 52, 60), np.uint8), np.zeros((44, 52, 60), np.uint8)
    _ball(reference, 2, (12, 14, 14), 8)
    _ball(reference, 1, (12, 14, 14), 4)
    _ball(reference, 3, (30, 36, 40), 7)
    _ball(reference, 1, (30, 36, 40), 3)
    _box(reference, 3, (34, 8, 44), (4, 4, 4))  # missed
    _ball(prediction, 2, (13, 14, 15), 8)
    _ball(prediction, 1, (12, 15, 14), 4)
    _box(prediction, 3, (25, 30, 34), (10, 6, 12))  # the enhancing tumour split in two parts
    _box(prediction, 3, (25, 38, 34), (10, 5, 12))
    _ball(prediction, 1, (30, 37, 41), 3)
    _box(prediction, 2, (40, 46, 2), (3, 3, 3))  # invented
    return reference, prediction


def empty_regions_case():
    """No enhancing tumour in either map, no necrosis in the prediction."""
    reference, prediction = np.zeros((30, 32, 34), np.uint8), np.zeros((30, 32, 34), np.uint8)
    _ball(reference, 2, (15, 16, 17), 9)
    _ball(reference, 1, (15, 16, 17), 3)
    _ball(prediction, 2, (15, 15, 18), 9)
    return reference, prediction


def far_false_positive_case():
    """A good enhancing tumour plus a tiny false one at the far corner: where the two HD95s part."""
    reference, prediction = np.zeros((60, 64, 64), np.uint8), np.zeros((60, 64, 64), np.uint8)
    _ball(reference, 2, (15, 16, 16), 10)
    _ball(reference, 3, (15, 16, 16), 6)
    _ball(prediction, 2, (15, 17, 16), 10)
    _ball(prediction, 3, (15, 16, 17), 6)
    _box(prediction, 3, (56, 60, 60), (3, 3, 3))
    return reference, prediction


ISOTROPIC_CASES = {"multi-lesion": multi_lesion_case, "empty regions": empty_regions_case,
                   "far false positive": far_false_positive_case}


def _assert_equal(ours: float, theirs, what: str) -> None:
    if theirs is None or (isinstance(theirs, float) and math.isnan(theirs)):
        return  # the official package leaves it undefined; our policy's value is tested elsewhere
    if math.isinf(theirs):
        assert ours == BRATS_POLICY.distance_one_empty, f"{what}: official inf, ours {ours}"
        return
    assert ours == pytest.approx(float(theirs), abs=1e-6), what


def _assert_lesionwise_equal(lesionwise, official_scores, case: str) -> None:
    for region, theirs in official_scores.items():
        for our_name, their_name in LESION_FIELDS.items():
            _assert_equal(float(getattr(lesionwise[region], our_name)), theirs.get(their_name),
                          f"{case} {region} {our_name}")


@pytest.mark.parametrize("case", ISOTROPIC_CASES)
def test_region_dice_and_brats_hd95_equal_the_official_package(official, case):
    reference, prediction = ISOTROPIC_CASES[case]()
    ours = evaluate_labels(reference, prediction, brats_schema(2023), (1.0, 1.0, 1.0), hd95="brats")
    theirs = _official_scores(official, reference, prediction)
    for region, values in theirs.items():
        _assert_equal(ours.regions[region].dice, values["global_bin_dsc"], f"{case} {region} Dice")
        _assert_equal(ours.regions[region].hd95, values["global_bin_hd95"], f"{case} {region} HD95")


@pytest.mark.parametrize("case", ISOTROPIC_CASES)
def test_lesionwise_scores_equal_the_official_package(official, case):
    reference, prediction = ISOTROPIC_CASES[case]()
    ours = evaluate_labels(reference, prediction, brats_schema(2023), (1.0, 1.0, 1.0), hd95="brats",
                           lesion_rules=BRATS_LESION_RULES)
    _assert_lesionwise_equal(ours.lesionwise, _official_scores(official, reference, prediction), case)


def test_the_cases_exercise_what_they_claim(official):
    """Guards the cases themselves: matches, misses, inventions, empty regions and a parting HD95."""
    theirs = _official_scores(official, *multi_lesion_case())
    assert theirs["ET"]["tp"] == 1 and theirs["ET"]["fn"] == 1 and theirs["ET"]["fp"] == 1
    assert theirs["ED"]["fp"] == 1
    empty = _official_scores(official, *empty_regions_case())
    assert math.isnan(empty["ET"]["global_bin_dsc"]) and math.isinf(empty["NCR"]["global_bin_hd95"])
    reference, prediction = far_false_positive_case()
    monai = evaluate_labels(reference, prediction, brats_schema(2023), (1.0, 1.0, 1.0), hd95="monai")
    brats = evaluate_labels(reference, prediction, brats_schema(2023), (1.0, 1.0, 1.0), hd95="brats")
    assert monai.regions["ET"].hd95 > 10 * brats.regions["ET"].hd95


def test_anisotropic_lesionwise_scores_equal_and_official_global_metrics_ignore_spacing(official):
    spacing = (3.0, 0.9, 1.2)
    reference, prediction = np.zeros((16, 48, 40), np.uint8), np.zeros((16, 48, 40), np.uint8)
    _ball(reference, 2, (8, 24, 20), 14, spacing)
    _ball(reference, 3, (8, 24, 20), 7, spacing)
    _ball(reference, 3, (3, 6, 6), 4, spacing)
    _ball(prediction, 2, (8, 25, 19), 14, spacing)
    _ball(prediction, 3, (9, 24, 21), 7, spacing)
    _box(prediction, 3, (14, 44, 36), (2, 2, 2))
    theirs = _official_scores(official, reference, prediction, spacing)
    ours = evaluate_labels(reference, prediction, brats_schema(2023), spacing, tolerance_mm=min(spacing),
                           hd95="brats", lesion_rules=BRATS_LESION_RULES)
    _assert_lesionwise_equal(ours.lesionwise, theirs, "anisotropic")
    unit = evaluate_labels(reference, prediction, brats_schema(2023), (1.0, 1.0, 1.0), hd95="brats")
    for region, values in theirs.items():
        _assert_equal(unit.regions[region].hd95, values["global_bin_hd95"], f"anisotropic {region} global HD95")
    assert ours.regions["WT"].hd95 != pytest.approx(float(theirs["WT"]["global_bin_hd95"]), abs=1e-6)


def random_case(seed: int):
    """Scattered lesions of every label, predicted with shifts, misses and inventions, and a random spacing."""
    rng = np.random.default_rng(seed)
    shape = (20, 36, 40)
    spacing = tuple(float(v) for v in rng.choice([0.8, 1.0, 1.5, 2.5], size=3))
    reference, prediction = np.zeros(shape, np.uint8), np.zeros(shape, np.uint8)
    for _ in range(6):
        center = rng.integers((3, 5, 5), (17, 31, 35))
        radius = float(rng.uniform(2.0, 6.0))
        label = int(rng.integers(1, 4))
        _ball(reference, label, center, radius, spacing)
        if rng.random() < 0.8:  # found, a little off; else missed
            _ball(prediction, label, center + rng.integers(-1, 2, size=3), radius * rng.uniform(0.7, 1.2), spacing)
    for _ in range(2):  # invented lesions
        _ball(prediction, int(rng.integers(1, 4)), rng.integers((2, 2, 2), (18, 34, 38)), 1.5, spacing)
    return reference, prediction, spacing


@pytest.mark.parametrize("seed", range(4))
def test_random_cases_agree_lesion_by_lesion_and_at_unit_spacing_region_by_region(official, seed):
    reference, prediction, spacing = random_case(seed)
    theirs = _official_scores(official, reference, prediction, spacing)
    ours = evaluate_labels(reference, prediction, brats_schema(2023), spacing, tolerance_mm=min(spacing),
                           hd95="brats", lesion_rules=BRATS_LESION_RULES)
    _assert_lesionwise_equal(ours.lesionwise, theirs, f"seed {seed}")
    unit = evaluate_labels(reference, prediction, brats_schema(2023), (1.0, 1.0, 1.0), hd95="brats")
    for region, values in theirs.items():
        _assert_equal(unit.regions[region].dice, values["global_bin_dsc"], f"seed {seed} {region} Dice")
        _assert_equal(unit.regions[region].hd95, values["global_bin_hd95"], f"seed {seed} {region} HD95")


def test_evaluate_with_brats_hd95_writes_what_the_official_package_computes_from_the_files(official, tmp_path):
    from synthtrust.cli.main import main
    from synthtrust.imaging.image import Image
    from synthtrust.imaging.io import save_image

    reference, prediction = multi_lesion_case()
    for name, labels in (("reference", reference), ("prediction", prediction)):
        save_image(Image.from_array(labels, (1.0, 1.0, 1.0), name=name), tmp_path / f"{name}.nii.gz")
    assert main(["evaluate", "--reference", str(tmp_path / "reference.nii.gz"), "--prediction",
                 str(tmp_path / "prediction.nii.gz"), "--schema", "brats2023", "--hd95", "brats",
                 "--json", str(tmp_path / "metrics.json")]) == 0
    written = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert written["hd95_convention"]["name"] == "brats" and written["lesion_rules"]["name"] == "brats"
    theirs = _official_scores(official, str(tmp_path / "reference.nii.gz"), str(tmp_path / "prediction.nii.gz"))
    for region, values in theirs.items():
        _assert_equal(written["regions"][region]["hd95"], values["global_bin_hd95"], f"file {region} HD95")
        for our_name, their_name in LESION_FIELDS.items():
            ours = written["lesionwise"][region][our_name]
            _assert_equal(math.nan if ours is None else ours, values.get(their_name), f"file {region} {our_name}")


def test_the_product_never_imports_the_official_package():
    offenders = []
    for path in (REPOSITORY / "Logic").rglob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            words = line.split()
            if words[:1] in (["import"], ["from"]) and len(words) > 1 and words[1].split(".")[0] in (
                    "panoptica", "brats_evaluation"):
                offenders.append(f"{path.relative_to(REPOSITORY)}: {line.strip()}")
    assert not offenders, offenders


@pytest.mark.parametrize("algorithm", ["hnfnetv1-20", "isen-20", "sanet0-20", "scan-20", "yixinmpl-20"])
def test_real_brats_segmentations_agree_with_the_official_package(official, algorithm):
    """The BraTS challenge algorithms' segmentations of TCGA-FG-6692 against their fusion (../shared/data)."""
    from conftest import shared_file
    from synthtrust.imaging.io import load_image

    folder = ("brainles_tcga", "TCGA-FG-6692", "algorithm_segmentations")
    reference = load_image(shared_file(*folder, "fusion_simple.nii.gz"))
    prediction = load_image(shared_file(*folder, f"{algorithm}.nii.gz"))
    to_2023 = np.array([0, 1, 2, 3, 3], np.uint8)  # the files use the 2021 numbering (ET = 4)
    reference_labels, prediction_labels = (to_2023[np.rint(image.array).astype(np.uint8)]
                                           for image in (reference, prediction))
    spacing = reference.spacing_zyx
    assert tuple(spacing) == (1.0, 1.0, 1.0)  # BraTS grid: the official region metrics' unit spacing is right
    theirs = _official_scores(official, reference_labels, prediction_labels, spacing)
    ours = evaluate_labels(reference_labels, prediction_labels, brats_schema(2023), spacing, hd95="brats",
                           lesion_rules=BRATS_LESION_RULES)
    _assert_lesionwise_equal(ours.lesionwise, theirs, algorithm)
    for region, values in theirs.items():
        _assert_equal(ours.regions[region].dice, values["global_bin_dsc"], f"{algorithm} {region} Dice")
        _assert_equal(ours.regions[region].hd95, values["global_bin_hd95"], f"{algorithm} {region} HD95")
