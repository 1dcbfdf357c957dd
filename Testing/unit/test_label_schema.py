"""Label schemas: numberings, composite regions, validation messages."""

from __future__ import annotations

import numpy as np
import pytest

from synthtrust.errors import InputError
from synthtrust.labels.schema import EMIDEC, brats_schema, get_schema


def test_brats_2021_composites_follow_the_brats_definition():
    schema = brats_schema(2021)
    labels = np.array([0, 1, 2, 4])
    masks = schema.region_masks(labels)
    assert masks["WT"].tolist() == [False, True, True, True]
    assert masks["TC"].tolist() == [False, True, False, True]
    assert masks["ET"].tolist() == [False, False, False, True]


def test_brats_2023_uses_label_three_for_enhancing_tumour():
    schema = get_schema("brats2023")
    assert schema.label_value("ET") == 3
    assert schema.region("TC").labels == (1, 3)


def test_brats_2015_counts_non_enhancing_tumour_in_the_core():
    assert brats_schema(2015).region("TC").labels == (1, 3, 4)


def test_emidec_scar_region_includes_mvo_and_myocardium_includes_both():
    assert EMIDEC.region("scar").labels == (3, 4)
    assert EMIDEC.region("myocardium").labels == (2, 3, 4)
    assert EMIDEC.lesion_mask(np.array([1, 2, 3, 4])).tolist() == [False, False, True, True]


def test_labels_outside_the_schema_are_refused_naming_them_and_the_allowed_values():
    with pytest.raises(InputError, match=r"labels \[3\] .* 'brats' schema \(allowed: \[0, 1, 2, 4\]"):
        brats_schema(2021).validate(np.array([0, 1, 3]))


def test_unknown_schema_names_are_refused_with_the_choices():
    with pytest.raises(InputError, match="brats, brats2015, brats2023, emidec, binary"):
        get_schema("cardiac")
