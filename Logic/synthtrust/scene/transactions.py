"""Scene changes that either complete or leave the scene as it was.

Two guarantees, both kept in ``finally``/``except`` blocks the way Slicer's SegmentStatistics removes its
temporary nodes: :func:`scratch_nodes` removes every node a block added (the block only reads the scene,
e.g. exporting a segmentation through a temporary label map), and :func:`all_or_nothing` removes every node
and subject-hierarchy item a block added when the block fails (importing a run half-way).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import vtk

from synthtrust.scene.session import SceneSession


def node_ids(session: SceneSession) -> set[str]:
    return {node.GetID() for node in session.nodes_by_class("vtkMRMLNode")}


def hierarchy_item_ids(session: SceneSession) -> set[int]:
    hierarchy = session.subject_hierarchy()
    ids = vtk.vtkIdList()
    hierarchy.GetItemChildren(hierarchy.GetSceneItemID(), ids, True)
    return {ids.GetId(i) for i in range(ids.GetNumberOfIds())}


def remove_nodes_not_in(session: SceneSession, before: set[str]) -> None:
    for node in session.nodes_by_class("vtkMRMLNode"):
        # Removing one node can take its helpers with it: skip those already gone.
        if node.GetID() not in before and node.GetScene() is not None:
            session.scene.RemoveNode(node)


@contextmanager
def scratch_nodes(session: SceneSession) -> Iterator[None]:
    """Remove every node added inside the block, also when it fails: a temporary label map and the display,
    storage and colour table nodes MRML creates for it (removing a volume node leaves those behind)."""
    before = node_ids(session)
    try:
        yield
    finally:
        remove_nodes_not_in(session, before)


@contextmanager
def all_or_nothing(session: SceneSession) -> Iterator[None]:
    """When the block raises, remove every node and subject-hierarchy item (e.g. a run's folder) it added,
    then re-raise: the scene is exactly as before. Nodes and items that were there before are never touched."""
    nodes_before, items_before = node_ids(session), hierarchy_item_ids(session)
    try:
        yield
    except BaseException:
        hierarchy = session.subject_hierarchy()
        # Items first, keeping their nodes: headless (slicer-core) a removed node's item would stay behind,
        # and removing an item with its node here would also reach nodes that are not new.
        for node in session.nodes_by_class("vtkMRMLNode"):
            item = hierarchy.GetItemByDataNode(node) if node.GetID() not in nodes_before else 0
            if item and item != hierarchy.GetInvalidItemID():
                hierarchy.RemoveItem(item, False, False)
        for item in sorted(hierarchy_item_ids(session) - items_before, reverse=True):  # children were made later
            if item in hierarchy_item_ids(session):
                hierarchy.RemoveItem(item, False, False)
        remove_nodes_not_in(session, nodes_before)
        raise
