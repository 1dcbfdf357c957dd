"""The scene side of starting a run: a run's input nodes written as the files the worker reads.

Reading never changes the scene: exporting a segmentation goes through temporary label maps, and every
node added on the way is removed in ``finally`` (:func:`~synthtrust.scene.transactions.scratch_nodes`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from synthtrust.errors import InputError
from synthtrust.imaging.image import Image
from synthtrust.imaging.io import save_image
from synthtrust.labels.schema import EMIDEC, LabelSchema
from synthtrust.scene.nodes import get_attributes, image_from_volume, labels_from_segmentation
from synthtrust.scene.session import SceneSession
from synthtrust.scene.transactions import scratch_nodes


def segmentation_labels(session: SceneSession, node, schema: LabelSchema, reference_volume) -> Image:
    """The segmentation as a label map of ``schema`` on the reference volume's grid; each segment is matched
    by its label-value tag or by its name."""
    try:
        with scratch_nodes(session):
            return labels_from_segmentation(session, node, schema, reference_volume)
    except KeyError as error:
        names = ", ".join(schema.labels.values())
        raise InputError(f"segmentation '{node.GetName()}' has a segment named {error} that is not a "
                         f"{schema.name} label; rename each segment to one of {names}") from None


def segmentation_mask(session: SceneSession, node, reference_volume) -> Image:
    """All segments together as a binary mask (e.g. a brain mask) on the reference volume's grid."""
    segmentation = node.GetSegmentation()
    names = [segmentation.GetNthSegment(i).GetName() for i in range(segmentation.GetNumberOfSegments())]
    if not names:
        raise InputError(f"segmentation '{node.GetName()}' has no segment; draw the mask first")
    any_segment = LabelSchema("mask", {i + 1: n for i, n in enumerate(names)}, (), {})
    labels = segmentation_labels(session, node, any_segment, reference_volume)
    return labels.with_array((labels.array > 0).astype(np.uint8))


@dataclass
class ExportedInputs:
    """What :func:`export_run_inputs` wrote, as file names inside the job folder."""

    channels: list[str]  # channel_0.nrrd, ... in volume order
    files: dict[str, str] = field(default_factory=dict)  # lesion / anatomy / reference -> file name
    edit: dict = field(default_factory=dict)  # the lesion's edit provenance ({"kind": "drawn"} when drawn)


def input_file_names(volume_count: int, lesion=None, anatomy=None, reference=None) -> ExportedInputs:
    """The file names :func:`export_run_inputs` gives a run's inputs (known before anything is written)."""
    nodes = {"lesion": lesion, "anatomy": anatomy, "reference": reference}
    return ExportedInputs([f"channel_{i}.nrrd" for i in range(volume_count)],
                          {name: f"{name}.nrrd" for name, node in nodes.items() if node is not None})


def export_run_inputs(session: SceneSession, folder: Path, volume_nodes: list, schema: LabelSchema,
                      lesion=None, anatomy=None, reference=None) -> ExportedInputs:
    """Write the volumes as ``channel_<i>.nrrd`` and the segmentations as label maps (``lesion``,
    ``anatomy``, ``reference`` ``.nrrd``) on the first volume's grid into ``folder``. A brain anatomy is a
    mask (any segment counts); a cardiac one keeps its EMIDEC labels. Nodes are read, never modified."""
    folder = Path(folder)
    reference_volume = volume_nodes[0]
    exported = input_file_names(len(volume_nodes), lesion, anatomy, reference)
    with scratch_nodes(session):
        for node, file in zip(volume_nodes, exported.channels, strict=True):
            save_image(image_from_volume(node), folder / file)
        for name, node in (("lesion", lesion), ("anatomy", anatomy), ("reference", reference)):
            if node is None:
                continue
            if name == "anatomy" and schema.name != EMIDEC.name:
                labels = segmentation_mask(session, node, reference_volume)
            else:
                labels = segmentation_labels(session, node, schema, reference_volume)
            save_image(labels.with_array(labels.array.astype(np.uint8)), folder / exported.files[name])
    if lesion is not None:
        exported.edit = get_attributes(lesion).get("edit") or {"kind": "drawn", "parameters": {}}
    return exported
