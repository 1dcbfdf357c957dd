"""Brain-tumour realism: tissue classes, lesion features, the realism score, spectrum-matched texture, and
the template engine painting the appearance learned from real gliomas (tiny seeded phantoms)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import ndimage

from synthtrust.errors import InputError
from synthtrust.imaging.image import Image
from synthtrust.imaging.tissue import in_plane_high_pass, three_class_labels, white_matter_class
from synthtrust.labels.schema import EMIDEC, brats_schema
from synthtrust.synthesis.intensity import learned_appearance
from synthtrust.synthesis.template import TemplateSynthesizer
from synthtrust.synthesis.texture import spectrum_matched_texture
from synthtrust.trust.lesion_features import away_from_border, lesion_features, shape_features
from synthtrust.trust.realism import RealismAudit, realism_audit, score_features, tumour_reference

SCHEMA = brats_schema(2021)
SHAPE = (48, 96, 96)


def _phantom(rng: np.random.Generator, noise_sd: float = 4.0):
    """A T1-like head: CSF (dark) outside and in a ventricle, a grey ring, white matter (bright), and a tumour
    label in the white matter."""
    z, y, x = np.ogrid[:SHAPE[0], :SHAPE[1], :SHAPE[2]]
    radius = np.sqrt(((x - 48) / 44.0) ** 2 + ((y - 48) / 44.0) ** 2 + ((z - 24) / 22.0) ** 2)
    image = np.zeros(SHAPE)
    image[radius <= 1.0] = 20.0  # CSF around the brain (sulci), as in a real skull-stripped head
    image[radius <= 0.93] = 60.0  # grey matter rim
    image[radius <= 0.8] = 100.0  # white matter
    image[radius <= 0.15] = 20.0  # a ventricle
    brain = radius <= 1.0
    image = np.where(brain, image + rng.normal(0, noise_sd, SHAPE), 0.0)
    lesion_radius = np.sqrt((x - 68) ** 2 + (y - 48) ** 2 + (z - 24) ** 2)
    labels = np.zeros(SHAPE, np.uint8)
    labels[lesion_radius <= 13] = 2
    labels[lesion_radius <= 6] = 4
    labels[lesion_radius <= 3] = 1
    return image.astype(np.float32), labels, brain


def test_three_intensity_classes_are_found_in_order_and_white_matter_named_per_modality(rng):
    values = np.concatenate([rng.normal(m, 2, 500) for m in (10, 50, 90)])
    classes, centres = three_class_labels(values)
    assert np.allclose(centres, [10, 50, 90], atol=1)
    assert (classes[:500] == 0).all() and (classes[1000:] == 2).all()
    assert [white_matter_class(m) for m in ("t1", "t1c", "flair", "t2")] == [2, 2, 1, 0]


def test_a_lesion_brighter_than_white_matter_has_positive_contrast_and_twice_the_noise_twice_the_texture(rng):
    image, labels, brain = _phantom(rng)
    lesion = labels > 0
    painted = np.where(lesion, 140.0 + rng.normal(0, 8.0, SHAPE), image)
    features = lesion_features([painted], ["t1"], labels, SCHEMA, (1.0, 1.0, 1.0), brain)
    brain_sd = float(painted[brain].std())
    assert features["t1.ED.contrast"] == pytest.approx(40.0 / brain_sd, rel=0.15)
    assert features["t1.ED.texture"] == pytest.approx(2.0, rel=0.2)
    same = lesion_features([np.where(lesion, 100.0 + rng.normal(0, 4.0, SHAPE), image)], ["t1"], labels, SCHEMA,
                           (1.0, 1.0, 1.0), brain)
    assert same["t1.ED.texture"] == pytest.approx(1.0, rel=0.2) and abs(same["t1.ED.contrast"]) < 0.1


def test_shape_features_tell_a_ball_from_a_lobulated_core_and_count_the_edema_ratio():
    z, y, x = np.ogrid[:40, :40, :40]
    ball = (np.sqrt((x - 20) ** 2 + (y - 20) ** 2 + (z - 20) ** 2) <= 8)
    lobes = np.zeros_like(ball)
    for cx, cy in ((12, 20), (28, 20), (20, 12), (20, 28)):
        lobes |= np.sqrt((x - cx) ** 2 + (y - cy) ** 2 + (z - 20) ** 2) <= 4
    lobes |= np.sqrt((x - 20) ** 2 + (y - 20) ** 2 + (z - 20) ** 2) <= 3
    for core in (ball, lobes):
        labels = np.where(core, 1, 0).astype(np.uint8)
        labels[ndimage.binary_dilation(core, iterations=2) & ~core] = 2
        features = shape_features(labels, SCHEMA, (1.0, 1.0, 1.0))
        assert features["shape.edema_core_ratio"] == pytest.approx(np.sum(labels == 2) / np.sum(core))
        if core is ball:
            round_one = features
    assert round_one["shape.core_sphericity"] > features["shape.core_sphericity"] + 0.1
    assert round_one["shape.core_solidity"] > features["shape.core_solidity"] + 0.1
    assert round_one["shape.core_solidity"] == pytest.approx(1.0, abs=0.1)


def test_the_realism_score_follows_its_formula_and_lists_what_the_reference_lacks():
    reference = {"a": {"mean": 1.0, "sd": 0.5}, "b": {"mean": 0.0, "sd": 2.0}}
    audit = score_features({"a": 2.0, "b": 0.0, "c": 5.0}, reference)
    assert audit.z_scores == {"a": 2.0, "b": 0.0}
    assert audit.score == pytest.approx((math.exp(-4 / 8) + 1.0) / 2)
    assert audit.worst_feature == "a" and audit.worst_z == 2.0 and audit.unreferenced == ["c"]
    assert score_features({"a": 1.0}, reference).score == 1.0
    back = RealismAudit.from_json(json.loads(json.dumps(audit.to_json(), allow_nan=False)))
    assert back.to_json() == audit.to_json()
    assert math.isnan(score_features({"c": 1.0}, reference).score)


def test_scars_get_no_tumour_realism_audit(rng):
    image, labels, brain = _phantom(rng)
    assert realism_audit([image], ["lge"], np.where(labels > 0, 3, 0), EMIDEC, (1.0, 1.0, 1.0)) is None


def test_an_unreadable_reference_is_refused_with_the_fix(tmp_path):
    broken = tmp_path / "reference.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="estimate_brain_tumour_appearance"):
        tumour_reference(broken)


def test_the_shipped_reference_gives_an_appearance_for_the_four_brats_modalities_only():
    for modality in ("flair", "t1", "t1c", "t2"):
        assert set(learned_appearance(modality)) == {"ED", "ET", "NCR"}
    assert learned_appearance("flair")["ED"]["contrast"] > 0 > learned_appearance("t1")["ED"]["contrast"]
    assert learned_appearance("pet") == {}


def _lag_one_correlation(field: np.ndarray, mask: np.ndarray) -> float:
    a, b = field[:, :, :-1][mask[:, :, :-1]], field[:, :, 1:][mask[:, :, :-1]]
    return float(np.corrcoef(a, b)[0, 1])


def test_fine_texture_takes_the_spectrum_of_the_tissue_noise(rng):
    tissue = np.ones((32, 48, 48), bool)
    inside = np.zeros_like(tissue)
    inside[8:24, 12:36, 12:36] = True
    white = rng.normal(0, 1, tissue.shape)
    grainy = ndimage.gaussian_filter(rng.normal(0, 1, tissue.shape), (0, 0.8, 0.8))
    from_white = spectrum_matched_texture(white, tissue, inside, (1.0, 1.0, 1.0), rng)
    from_grainy = spectrum_matched_texture(grainy, tissue, inside, (1.0, 1.0, 1.0), rng)
    assert from_white[inside].std() == pytest.approx(1.0, abs=1e-6)
    expected = _lag_one_correlation(in_plane_high_pass(grainy, (1.0, 1.0, 1.0)), inside)
    assert _lag_one_correlation(from_grainy, inside) == pytest.approx(expected, abs=0.1)
    assert _lag_one_correlation(from_grainy, inside) > _lag_one_correlation(from_white, inside) + 0.2


def _synthesize(image, labels, modalities, seed=0):
    picture = Image.from_array(image, (1.0, 1.0, 1.0))
    channels = [picture.with_array(image.copy()) for _ in modalities]
    return TemplateSynthesizer().synthesize(channels, picture.with_array(labels), SCHEMA, modalities, seed=seed)


def test_the_template_paints_the_learned_contrast_and_texture_and_leaves_the_rest_bit_identical(rng):
    image, labels, brain = _phantom(rng)
    result = _synthesize(image, labels, ["flair", "t1c"])
    audit = realism_audit([c.array for c in result.channels], ["flair", "t1c"], labels, SCHEMA, (1.0, 1.0, 1.0))
    for name in ("flair.ED.contrast", "t1c.ET.contrast", "t1c.NCR.contrast", "flair.ED.texture"):
        assert abs(audit.z_scores[name]) < 1.5, (name, audit.features[name], audit.z_scores[name])
    for channel in result.channels:
        assert np.array_equal(channel.array[labels == 0], image[labels == 0])
    assert result.provenance["intensity_models"][0]["appearance"].startswith("learned")


def test_a_smooth_template_gets_no_visible_noise_and_a_noisy_scan_its_own_grain(rng):
    image, labels, brain = _phantom(rng, noise_sd=0.0)
    image = ndimage.gaussian_filter(image, 1.0)
    edema = np.where(labels > 0, 2, 0).astype(np.uint8)  # one region, so its interior is far from any step
    # Beyond the 4 mm border ramp and the high-pass's reach: what is left is the painted grain alone.
    interior = away_from_border(edema > 0, (1.0, 1.0, 1.0), 7.0)
    assert np.count_nonzero(interior) > 100
    synthetic = _synthesize(image, edema, ["t1"]).channels[0].array
    smooth_grain = in_plane_high_pass(synthetic.astype(float), (1.0, 1.0, 1.0))[interior].std()
    assert smooth_grain < 0.01 * float(image[brain].std())
    noisy, _, _ = _phantom(rng, noise_sd=4.0)
    grainy = _synthesize(noisy, edema, ["t1"]).channels[0].array
    painted_grain = in_plane_high_pass(grainy.astype(float), (1.0, 1.0, 1.0))[interior].std()
    assert painted_grain > 10 * smooth_grain
    audit = realism_audit([grainy], ["t1"], edema, SCHEMA, (1.0, 1.0, 1.0))
    assert abs(audit.z_scores["t1.ED.texture"]) < 2.0, audit.features["t1.ED.texture"]


def test_the_realism_audit_travels_in_the_run_records_and_shows_in_the_results_and_demo_tables():
    from synthtrust.results import table
    from synthtrust.results.records import Audits

    realism = score_features({"a": 2.0}, {"a": {"mean": 1.0, "sd": 0.5}}).to_json()
    audits = Audits({"dice": 0.9, "threshold": 0.6, "passed": True}, {"volume_ml": 0.0, "voxels": 0},
                    {"voxels_changed": 0, "max_abs_change": 0.0}, realism)
    back = Audits.from_json(json.loads(json.dumps(audits.to_json(), allow_nan=False)))
    assert back.realism_score == pytest.approx(math.exp(-0.5))
    assert back.realism_values()["realism_worst"] == "a (z +2.0)"
    scar = Audits(audits.conditioning_fidelity, audits.hallucination, audits.off_target_change)
    assert "realism" not in scar.to_json() and math.isnan(scar.realism_values()["realism_score"])
    assert "Realism" in [c.header for c in table.RESULTS_TABLE]
    assert {"Realism", "Least real feature"} <= {c.header for c in table.DEMO_AUDITS}


def test_synthesize_on_the_command_line_prints_and_records_the_realism_of_each_variant(rng, tmp_path, capfd):
    from synthtrust.cli.main import main
    from synthtrust.imaging.io import save_image

    image, labels, _ = _phantom(rng)
    save_image(Image.from_array(image, (1.0, 1.0, 1.0)), tmp_path / "t1.nii.gz")
    save_image(Image.from_array(labels, (1.0, 1.0, 1.0)), tmp_path / "lesion.nii.gz")
    out = tmp_path / "out"
    assert main(["synthesize", "--image", str(tmp_path / "t1.nii.gz"), "--lesion", str(tmp_path / "lesion.nii.gz"),
                 "--modalities", "t1", "--out", str(out)]) == 0
    record = json.loads((out / "synthesis.json").read_text(encoding="utf-8"))
    realism = record["variants"][0]["realism"]
    assert 0.0 < realism["score"] <= 1.0 and realism["worst_feature"] in realism["z_scores"]
    assert f"realism {realism['score']:.2f}" in capfd.readouterr().err
