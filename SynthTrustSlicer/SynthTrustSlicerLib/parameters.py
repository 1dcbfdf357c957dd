"""The panel's parameter node read into what the logic and the enabling rules take: run and sweep requests
(:func:`request_for`, the panel controller's request builder), tumour and scar placement arguments, and the :class:`PanelInputs` snapshot.

``pn`` is the module's ``SynthTrustSlicerParameterNode`` (any object with the same attributes works, which
is how the tests use it): ``task`` and the modalities are enums with a ``value``, node fields hold MRML
nodes or None. Nothing here imports slicer or Qt.
"""

from __future__ import annotations

from .bullseye import parse_segments
from .panel_state import PanelInputs


def channel_pairs(pn) -> list[tuple[object, str]]:
    """(volume node, modality name) of the chosen channels, in channel order, unset channels dropped."""
    pairs = ((pn.channel1Volume, pn.channel1Modality), (pn.channel2Volume, pn.channel2Modality),
             (pn.channel3Volume, pn.channel3Modality))
    return [(volume, modality.value) for volume, modality in pairs if volume is not None]


def scar_segments(pn) -> list[int]:
    """The AHA segments clicked on the bullseye; [] when the stored text is not a valid list."""
    try:
        return parse_segments(pn.scarSegments)
    except ValueError:
        return []


def chosen_segmenters(pn) -> list[str]:
    return [s for s in pn.segmenters.split(",") if s] + ([pn.segmenterPath] if pn.segmenterPath else [])


def request_for(pn, kind: str):
    """What the panel sends the logic: Apply's run (``kind`` run) or the scar sweep (``kind`` sweep)."""
    if kind == "sweep":
        return sweep_request(pn)
    if kind == "run":
        return run_request(pn)
    raise ValueError(f"job kind {kind!r} is unknown; use 'run' or 'sweep'")


def run_request(pn, kind: str = "run"):
    """The request Apply sends (``kind`` run); :func:`sweep_request` builds on it with ``kind`` sweep."""
    from synthtrust.settings import EngineOptions, RunSettings

    from .logic import RunRequest

    pairs = channel_pairs(pn)
    options = EngineOptions(model=pn.modelPath or pn.model, steps=pn.steps,
                            guidance=pn.guidanceWeight if pn.guidance else 0.0,
                            quality_threshold=pn.qualityThreshold or None)
    # Channels and input file names are filled in by the logic when it exports the nodes.
    settings = RunSettings(kind=kind, task=pn.task.value, channels=[], modalities=[m for _v, m in pairs],
                           engine=pn.engine, engine_options=options, variants=pn.variants, seed=pn.seed,
                           device=pn.device, segmentation_device=pn.segmentationDevice,
                           segmenters=chosen_segmenters(pn))
    return RunRequest(settings, [v for v, _m in pairs],
                      lesion_segmentation_node=pn.lesionSegmentation if kind != "sweep" else None,
                      anatomy_segmentation_node=pn.anatomySegmentation,
                      reference_segmentation_node=pn.referenceSegmentation)


def sweep_request(pn):
    """One scar edit per selected AHA segment at the panel's transmurality, extent, MVO, irregularity and
    scar seed; each edit gets the Synthesis section's variants, seed and engine."""
    segments = scar_segments(pn)
    if not segments:
        raise ValueError("Click at least one AHA segment on the bullseye before sweeping.")
    from synthtrust.settings import SweepSettings

    request = run_request(pn, kind="sweep")
    request.settings.sweep = SweepSettings(segments=segments, transmurality=[float(pn.transmurality)],
                                           extent=float(pn.extent), irregularity=float(pn.scarIrregularity),
                                           mvo=float(pn.mvo), seed=int(pn.scarSeed))
    return request


def tumor_center_ras(pn) -> list[float]:
    """The tumour centre (RAS, world) from the first point of the centre list."""
    if pn.channel1Volume is None or pn.tumorCenter is None or pn.tumorCenter.GetNumberOfControlPoints() < 1:
        raise ValueError("Select the first input volume and a tumour centre point.")
    center = [0.0, 0.0, 0.0]
    pn.tumorCenter.GetNthControlPointPositionWorld(0, center)
    return center


def tumor_parameters(pn) -> dict:
    """Keyword parameters of the parametric tumour (plus the brain mask node when one is chosen)."""
    parameters = {"size_mm": pn.tumorSizeMm, "edema_mm": pn.edemaMm, "enhancing_rim_mm": pn.enhancingRimMm,
                  "necrosis": pn.necrosis, "irregularity": pn.tumorIrregularity}
    if pn.anatomySegmentation is not None:
        parameters["brain_mask_node"] = pn.anatomySegmentation
    return parameters


def scar_parameters(pn) -> dict:
    """Keyword arguments of the logic's ``place_scar_segmentation`` after the two nodes (one spelling for the
    panel's Place/Preview and the in-Slicer self-test)."""
    return {"segments": scar_segments(pn), "transmurality": pn.transmurality, "extent": pn.extent, "mvo": pn.mvo,
            "seed": pn.scarSeed, "irregularity": pn.scarIrregularity}


def panel_inputs(pn, default_generator: dict | None) -> PanelInputs:
    """What the enabling rules need; ``default_generator`` is the shipped generator the chosen engine would
    use for these channels (:meth:`.choices.ChoiceBoxes.default_generator`), or None."""
    pairs = channel_pairs(pn)
    center = pn.tumorCenter
    return PanelInputs(
        channels=[v.GetName() for v, _m in pairs], modalities=[m for _v, m in pairs], task=pn.task.value,
        lesion_segmentation=pn.lesionSegmentation is not None, anatomy_segmentation=pn.anatomySegmentation is not None,
        tumor_center=center is not None and center.GetNumberOfControlPoints() > 0, scar_segments=scar_segments(pn),
        engine=pn.engine, engine_needs_model=pn.engine != "template", model_chosen=bool(pn.model or pn.modelPath),
        default_generator=(default_generator or {}).get("title", ""), segmenters=len(chosen_segmenters(pn)),
        guidance=pn.guidance)
