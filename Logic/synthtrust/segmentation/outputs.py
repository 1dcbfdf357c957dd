"""From network outputs to the schema's classes: softmax over classes, or sigmoid multi-label regions.

A softmax network has one output per class; class ``k`` is label value ``label_values[k]``. A sigmoid
(multi-label) network, as MONAI's BraTS bundle, has one output per *region* (TC, WT, ET): each is
thresholded on its own. Regions must be nested or disjoint (a laminar family), and each must add exactly
one label value to the regions inside it: BraTS 2021 WT = {1, 2, 4} over TC = {1, 4} over ET = {4} gives
WT-minus-TC -> 2 (ED), TC-minus-ET -> 1 (NCR), ET -> 4. A voxel takes the label of the smallest region
that is on (so ET wins where the thresholded regions disagree about nesting). Class probabilities are
made consistent the same way: each region's probability is raised to at least that of the regions inside
it, and a label's probability is its region's minus its inner regions'.
"""

from __future__ import annotations

from dataclasses import dataclass

from synthtrust.errors import InputError
from synthtrust.labels.schema import LabelSchema

ACTIVATIONS = ("softmax", "sigmoid")
# Names bundles give their output channels, folded onto the schema's region names.
REGION_ALIASES = {"tumor core": "TC", "tumour core": "TC", "whole tumor": "WT", "whole tumour": "WT",
                  "enhancing tumor": "ET", "enhancing tumour": "ET", "necrosis": "NCR", "edema": "ED",
                  "oedema": "ED", "infarct": "scar", "infarction": "scar", "no-reflow": "MVO", "no reflow": "MVO"}


def schema_region_name(schema: LabelSchema, name: str) -> str | None:
    """The schema's region called ``name`` (case-insensitive, aliases folded), or None."""
    key = REGION_ALIASES.get(str(name).strip().lower(), str(name).strip())
    return next((r.name for r in schema.regions if r.name.lower() == key.lower()), None)


@dataclass(frozen=True)
class MultiLabelPlan:
    """How sigmoid region outputs become label values: ``own_values[i]`` is the label output ``i`` adds;
    ``inner[i]`` are the outputs directly inside output ``i``; ``paint_order`` goes outermost first."""

    regions: tuple[str, ...]
    own_values: tuple[int, ...]
    inner: tuple[tuple[int, ...], ...]
    paint_order: tuple[int, ...]

    @property
    def label_values(self) -> list[int]:
        return [0, *sorted(self.own_values)]


def multilabel_plan(schema: LabelSchema, region_names: list[str], source: str = "segmenter config") -> MultiLabelPlan:
    """Check that the regions can be mapped onto ``schema``'s labels and say how, or refuse naming why."""
    names = []
    for name in region_names:
        region = schema_region_name(schema, name)
        if region is None:
            raise InputError(f"{source}: sigmoid output {name!r} is not a region of the {schema.name} schema "
                             f"({', '.join(r.name for r in schema.regions)}); name each output channel after one")
        names.append(region)
    if not names or len(set(names)) != len(names):
        raise InputError(f"{source}: sigmoid outputs {names} must name distinct regions of the {schema.name} schema")
    sets = [frozenset(schema.region(n).labels) for n in names]
    for i, a in enumerate(sets):
        for j, b in enumerate(sets[:i]):
            if a & b and not (a <= b or b <= a):
                raise InputError(f"{source}: sigmoid outputs {names[j]} and {names[i]} overlap without one "
                                 "containing the other, so their voxels cannot be given one label each")
    inside = [[j for j, b in enumerate(sets) if b < a] for a in sets]
    own_values, inner = [], []
    for i, a in enumerate(sets):
        own = a - frozenset().union(*(sets[j] for j in inside[i]))
        if len(own) != 1:
            described = "nothing" if not own else "+".join(schema.labels[v] for v in sorted(own))
            raise InputError(f"{source}: sigmoid output {names[i]} minus the outputs inside it leaves {described}, "
                             f"not one {schema.name} label; these channels cannot be mapped to the schema's labels")
        own_values.append(next(iter(own)))
        # Directly inside: not inside another region that is itself inside this one.
        inner.append(tuple(j for j in inside[i] if not any(sets[j] < sets[k] for k in inside[i])))
    order = tuple(sorted(range(len(sets)), key=lambda i: -len(sets[i])))
    return MultiLabelPlan(tuple(names), tuple(own_values), tuple(inner), order)


def softmax_decode(logits):
    """``(K, ...)`` logits -> (class probabilities, class indices as uint8)."""
    import torch

    probabilities = torch.softmax(logits, dim=0)
    return probabilities, torch.argmax(probabilities, dim=0).to(torch.uint8)


def sigmoid_decode(logits, plan: MultiLabelPlan, threshold: float = 0.5):
    """``(R, ...)`` region logits -> (class probabilities over ``plan.label_values``, class indices)."""
    import torch

    region = torch.sigmoid(logits)
    raised = [None] * len(plan.regions)

    def raise_to_inner(i: int):
        if raised[i] is None:
            value = region[i]
            for j in plan.inner[i]:
                value = torch.maximum(value, raise_to_inner(j))
            raised[i] = value
        return raised[i]

    for i in range(len(plan.regions)):
        raise_to_inner(i)
    label_values = plan.label_values
    classes_of = {value: label_values.index(value) for value in plan.own_values}
    probabilities = torch.zeros((len(label_values), *logits.shape[1:]), dtype=logits.dtype, device=logits.device)
    outermost = [i for i in range(len(plan.regions)) if not any(i in inner for inner in plan.inner)]
    for i in range(len(plan.regions)):
        inner_sum = sum((raised[j] for j in plan.inner[i]), torch.zeros_like(region[i]))
        probabilities[classes_of[plan.own_values[i]]] = torch.clamp(raised[i] - inner_sum, min=0.0)
    probabilities[0] = torch.clamp(1.0 - sum(raised[i] for i in outermost), min=0.0)
    probabilities = probabilities / probabilities.sum(dim=0, keepdim=True).clamp(min=1e-6)
    classes = torch.zeros(logits.shape[1:], dtype=torch.uint8, device=logits.device)
    for i in plan.paint_order:
        classes[region[i] > threshold] = classes_of[plan.own_values[i]]
    return probabilities, classes
