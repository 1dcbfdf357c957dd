"""The realism audit on real gliomas (TCGA-FG-6692, shared data): the real tumour scores as real, and a
default template tumour in its healthy hemisphere comes close, with the issue-12 figures inside the range."""

from __future__ import annotations

import numpy as np

from conftest import shared_file
from synthtrust.editing.tumor import place_tumor
from synthtrust.imaging.io import load_image
from synthtrust.labels.schema import brats_schema
from synthtrust.synthesis.template import TemplateSynthesizer
from synthtrust.trust.realism import realism_audit

CASE = ("brainles_tcga", "TCGA-FG-6692")
MODALITIES = {"flair": "fla", "t1": "t1", "t1c": "t1c", "t2": "t2"}


def test_a_real_glioma_scores_as_real_and_a_template_tumour_in_the_healthy_side_comes_close():
    channels = [load_image(shared_file(*CASE, "sri24_skullstripped", f"TCGA-FG-6692_{s}.nii.gz"), m)
                for m, s in MODALITIES.items()]
    channels = [c.with_array(c.array.astype(np.float32)) for c in channels]
    real = load_image(shared_file(*CASE, "algorithm_segmentations", "fusion_simple.nii.gz")).array.astype(np.uint8)
    spacing = channels[0].spacing_zyx
    real_audit = realism_audit([c.array for c in channels], list(MODALITIES), real, brats_schema(), spacing)
    assert real_audit.score > 0.9
    k, j, i = np.argwhere(real > 0).mean(axis=0)
    centre = channels[0].geometry.index_to_physical((real.shape[2] - 1 - i, j, k))
    edit = place_tumor(channels[1], centre, 28.0, irregularity=0.35, seed=0)
    result = TemplateSynthesizer().synthesize(channels, edit.labels, brats_schema(), list(MODALITIES), seed=0)
    audit = realism_audit([c.array for c in result.channels], list(MODALITIES), edit.labels.array, brats_schema(),
                          spacing)
    assert audit.score > 0.8
    for name in ("flair.ED.contrast", "t1c.NCR.contrast", "flair.ED.texture", "t1c.ET.texture"):
        assert abs(audit.z_scores[name]) < 2.0, (name, audit.features[name])
