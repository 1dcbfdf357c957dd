"""The MRML adapter: the one part of the core that imports ``slicer``. It uses only MRML classes present
in both 3D Slicer and the slicer-core wheel, so the panel, the CLI and the tests share it."""

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
    remove_node,
    scratch_nodes,
    set_attributes,
    singleton_node,
    table_rows,
)
from synthtrust.scene.session import SceneSession

__all__ = ["SceneSession", "add_plot", "add_segmentation", "add_table", "add_volume", "create_run_folder",
           "get_attributes", "image_from_volume", "labels_from_segmentation", "open_bundle", "remove_node",
           "save_bundle", "scratch_nodes", "set_attributes", "singleton_node", "table_rows"]
