"""Measure how real the template engine's tumours look: the realism audit (synthtrust.trust.realism) of
default tumours placed in the MNI152 T1 (the demo) and in the healthy hemisphere of the two TCGA cases
(four modalities), beside the real tumours themselves. Prints a Markdown table for docs/performance.md,
with the four figures issue 12 quoted (FLAIR edema and T1c enhancing texture, FLAIR edema contrast,
T1c necrosis contrast, each as measured and as z against real tumours).

    .venv/bin/python scripts/measure_brain_realism.py [--data ../shared/data] [--seeds 3] [--json PATH]
    .venv/bin/python scripts/measure_brain_realism.py --before 207ca58   # engine and placement before issue 12

The real tumours are scored against a reference they are part of (in-sample: an optimistic ceiling).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import types
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Logic"))

from synthtrust.demo import BRAIN_TUMOR_CENTER_RAS, BRAIN_TUMOR_SIZE_MM, load_demo_brain  # noqa: E402
from synthtrust.editing.tumor import place_tumor  # noqa: E402
from synthtrust.imaging.image import LPS_TO_RAS  # noqa: E402
from synthtrust.imaging.io import load_image  # noqa: E402
from synthtrust.labels.schema import brats_schema  # noqa: E402
from synthtrust.provenance import write_json  # noqa: E402
from synthtrust.synthesis.template import TemplateSynthesizer  # noqa: E402
from synthtrust.trust.realism import realism_audit  # noqa: E402

CASES = ("TCGA-FG-6692", "TCGA-DU-7294")
MODALITIES = {"flair": "fla", "t1": "t1", "t1c": "t1c", "t2": "t2"}
QUOTED = ("flair.ED.texture", "t1c.ET.texture", "flair.ED.contrast", "t1c.NCR.contrast")
SCHEMA = brats_schema(2021)
REPOSITORY = Path(__file__).resolve().parents[1]


def _module_at(commit: str, path: str) -> types.ModuleType:
    """``path`` as it was at ``commit``, run against today's other modules (our own history, nothing else)."""
    source = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=REPOSITORY, capture_output=True, text=True,
                            check=True, encoding="utf-8").stdout
    module = types.ModuleType(f"{Path(path).stem}_at_{commit}")
    exec(compile(source, f"{path}@{commit}", "exec"), module.__dict__)  # noqa: S102
    return module


def engine_and_placement(commit: str | None):
    """Today's TemplateSynthesizer and place_tumor, or those of ``commit``."""
    if not commit:
        return TemplateSynthesizer, place_tumor
    return (_module_at(commit, "Logic/synthtrust/synthesis/template.py").TemplateSynthesizer,
            _module_at(commit, "Logic/synthtrust/editing/tumor.py").place_tumor)


def audit_row(label: str, channels, modalities, labels, spacing, brain) -> dict:
    audit = realism_audit([c.array for c in channels], modalities, labels, SCHEMA, spacing, brain)
    row = {"case": label, "score": audit.score, "worst": audit.worst_feature, "worst_z": audit.worst_z}
    for name in QUOTED:
        row[name] = audit.features.get(name, float("nan"))
        row[f"{name} z"] = audit.z_scores.get(name, float("nan"))
    return row


def mirrored_centre(image, labels: np.ndarray) -> tuple[float, float, float]:
    """The real tumour's centroid mirrored across the image's left-right middle: healthy tissue in SRI24."""
    k, j, i = np.argwhere(labels > 0).mean(axis=0)
    mirrored = (image.array.shape[2] - 1 - i, j, k)
    return tuple(float(v) for v in image.geometry.index_to_physical(np.asarray(mirrored)))


def synthetic_rows(data: Path, seeds: int, engine, place) -> list[dict]:
    rows = []
    t1, brain = load_demo_brain()
    centre = tuple(LPS_TO_RAS @ np.asarray(BRAIN_TUMOR_CENTER_RAS))
    for seed in range(seeds):
        edit = place(t1, centre, BRAIN_TUMOR_SIZE_MM, irregularity=0.35, seed=seed, brain_mask=brain,
                           schema=SCHEMA)
        result = engine().synthesize([t1], edit.labels, SCHEMA, ["t1"], seed=seed)
        rows.append(audit_row(f"template, MNI T1, seed {seed}", result.channels, ["t1"], edit.labels.array,
                              t1.spacing_zyx, brain.array > 0))
    for case in CASES:
        folder = data / "brainles_tcga" / case
        channels = [load_image(folder / "sri24_skullstripped" / f"{case}_{s}.nii.gz", m) for m, s in
                    MODALITIES.items()]
        channels = [c.with_array(c.array.astype(np.float32)) for c in channels]
        real = load_image(folder / "algorithm_segmentations" / "fusion_simple.nii.gz").array.astype(np.uint8)
        brain = channels[0].array != 0
        rows.append(audit_row(f"real {case} (fusion, in-sample)", channels, list(MODALITIES), real,
                              channels[0].spacing_zyx, brain))
        centre = mirrored_centre(channels[0], real)
        for seed in range(seeds):
            edit = place(channels[1], centre, BRAIN_TUMOR_SIZE_MM, irregularity=0.35, seed=seed,
                               brain_mask=channels[0].with_array(brain.astype(np.uint8)), schema=SCHEMA)
            # The real tumour stays in the image: the audit measures the synthetic one only.
            result = engine().synthesize(channels, edit.labels, SCHEMA, list(MODALITIES), seed=seed)
            rows.append(audit_row(f"template, {case} healthy side, seed {seed}", result.channels, list(MODALITIES),
                                  edit.labels.array, channels[0].spacing_zyx, None))
    return rows


def markdown(rows: list[dict]) -> str:
    head = ["case", "realism", "worst feature (z)"] + [f"{n} (z)" for n in QUOTED]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row["case"], f"{row['score']:.2f}", f"{row['worst']} ({row['worst_z']:+.1f})"]
        cells += ["-" if np.isnan(row[n]) else f"{row[n]:.2f} ({row[n + ' z']:+.1f})" for n in QUOTED]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as strict JSON here")
    parser.add_argument("--before", default=None, metavar="COMMIT",
                        help="measure the template engine and tumour placement of this git commit")
    arguments = parser.parse_args()
    rows = synthetic_rows(arguments.data, arguments.seeds, *engine_and_placement(arguments.before))
    print(markdown(rows))
    if arguments.json:
        write_json({"rows": rows}, arguments.json)


if __name__ == "__main__":
    main()
