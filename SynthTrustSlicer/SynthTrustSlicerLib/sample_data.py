"""Brain and cardiac sample data for SampleData and the Teaching section, from local sources only.

Nothing is downloaded: the extension ships no patient images and Slicer may run offline.
- Brain: the MNI ICBM152 2009a T1 template (an average of 152 brains) and a brain mask from its grey and
  white matter maps, read from the ``nilearn`` package's data folder (``synthtrust demo`` uses the same
  files). Without nilearn in Slicer's Python, the Teaching button and the SampleData button ask once to
  install it (``dependencies.ensure_for_sample_brain``).
- Heart: an LGE-like short-axis stack with blood pool and myocardium labels that the core generates
  (``synthtrust.phantoms.cardiac``), the same heart the CLI demo uses.
"""

from __future__ import annotations

from .dependencies import ensure_for_sample_brain

CATEGORY = "SynthTrust"
BRAIN_SAMPLE, HEART_SAMPLE = "SynthTrustBrainMNI152", "SynthTrustHeartLGE"


def load_sample_brain(session):
    """(T1 volume node, brain-mask segmentation node) of the MNI152 template, added to the scene."""
    from synthtrust.demo import load_demo_brain
    from synthtrust.errors import InputError
    from synthtrust.labels.schema import LabelSchema
    from synthtrust.scene import add_segmentation, add_volume

    try:
        t1, brain = load_demo_brain()
    except InputError as error:
        raise RuntimeError(f"{error}. In Slicer: run slicer.util.pip_install('nilearn') in the Python console "
                           "(the template ships inside that package), or load your own T1/FLAIR volumes.") from None
    volume = add_volume(session, t1, "MNI152 T1", {"source": "MNI ICBM152 2009a via nilearn"})
    mask = add_segmentation(session, brain, LabelSchema("brain mask", {1: "brain"}, (), {}), "MNI152 brain mask",
                            reference_volume=volume)
    return volume, mask


def load_sample_heart(session, seed: int = 0):
    """(LGE volume node, EMIDEC anatomy segmentation node) of a generated heart, added to the scene."""
    from synthtrust.labels.schema import EMIDEC
    from synthtrust.phantoms.cardiac import make_lge_phantom
    from synthtrust.scene import add_segmentation, add_volume

    image, labels = make_lge_phantom(seed=seed)
    volume = add_volume(session, image, "SynthTrust LGE heart", {"source": f"synthtrust LGE phantom, seed {seed}"})
    anatomy = add_segmentation(session, labels, EMIDEC, "SynthTrust heart anatomy", reference_volume=volume)
    return volume, anatomy


def load_sample(which: str, session):
    """``brain`` or ``heart``: (volume node, anatomy segmentation node) added to the scene."""
    loaders = {"brain": load_sample_brain, "heart": load_sample_heart}
    if which not in loaders:
        raise ValueError(f"sample {which!r} is unknown; choose brain or heart")
    return loaders[which](session)


def register(thumbnail: str, session_factory) -> None:
    """Add both samples to the SampleData module (``thumbnail``: an image file shown on their buttons);
    ``session_factory()`` gives the scene session to load into."""
    import SampleData

    logic = SampleData.SampleDataLogic
    if hasattr(logic, "registerCustomSampleDataCategory"):  # Slicer >= 5.10 shows a category title
        logic.registerCustomSampleDataCategory(CATEGORY, "SynthTrust")
    for name, which in ((BRAIN_SAMPLE, "brain"), (HEART_SAMPLE, "heart")):
        # No URIs: SampleData calls customDownloader when the button is pressed, which builds the nodes.
        logic.registerCustomSampleDataSource(
            category=CATEGORY, sampleName=name, uris=[], fileNames=[], nodeNames=[],
            thumbnailFileName=thumbnail,
            customDownloader=lambda source, which=which: _load_from_sample_data(which, session_factory))


def _load_from_sample_data(which: str, session_factory) -> list:
    """What a SampleData button does: the brain first asks once for nilearn (as the Teaching button does);
    an error is shown here, since SampleData's button would only print it to the Python console."""
    import slicer

    with slicer.util.tryWithErrorDisplay(f"Could not load the SynthTrust sample {which}.", waitCursor=True):
        if which == "brain":
            ensure_for_sample_brain()
        return list(load_sample(which, session_factory()))
