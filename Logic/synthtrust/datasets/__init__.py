"""Users' data sets read from disk: BraTS-style case folders (2021 and 2023 naming), EMIDEC-style folders,
flat folders of 2D slices with masks, and CSV manifests, as one list of cases with a clear refusal for a
missing channel, another grid or an unknown label."""

from __future__ import annotations

from synthtrust.datasets.layouts import DiskCase, DiskDataset, read_dataset
from synthtrust.datasets.loading import load_case, split_by_patient, training_dataset

__all__ = ["DiskCase", "DiskDataset", "load_case", "read_dataset", "split_by_patient", "training_dataset"]
