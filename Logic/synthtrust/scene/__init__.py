"""The MRML adapter: the one part of the core that imports ``slicer``. It uses only MRML classes present
in both 3D Slicer and the slicer-core wheel, so the panel, the CLI and the tests share it.

Nodes (:mod:`.nodes`), a run's inputs written for the worker (:mod:`.run_export`), a finished run imported
with its provenance (:mod:`.run_import`), all-or-nothing scene changes (:mod:`.transactions`), how results
are displayed (:mod:`.display`) and scene bundles (:mod:`.bundle`)."""

from __future__ import annotations

from synthtrust.scene.bundle import open_bundle, save_bundle
from synthtrust.scene.nodes import (
    add_plot,
    add_segmentation,
    add_table,
    add_volume,
    create_run_folder,
    get_attributes,
    image_from_volume,
    labels_from_segmentation,
    module_parameter_node,
    remove_node,
    set_attributes,
    singleton_node,
    table_rows,
)
from synthtrust.scene.run_export import (
    ExportedInputs,
    export_run_inputs,
    input_file_names,
    segmentation_labels,
    segmentation_mask,
)
from synthtrust.scene.run_import import RunOutcome, default_run_name, import_run, read_run_record
from synthtrust.scene.session import SceneSession
from synthtrust.scene.transactions import all_or_nothing, scratch_nodes

__all__ = ["ExportedInputs", "RunOutcome", "SceneSession", "add_plot", "add_segmentation",
           "add_table", "add_volume", "all_or_nothing", "create_run_folder", "default_run_name",
           "export_run_inputs", "get_attributes", "image_from_volume", "import_run", "input_file_names",
           "labels_from_segmentation",
           "module_parameter_node", "open_bundle", "read_run_record", "remove_node", "save_bundle",
           "scratch_nodes", "segmentation_labels", "segmentation_mask", "set_attributes", "singleton_node",
           "table_rows"]
