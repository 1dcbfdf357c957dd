"""Lesson mode: short guided steps shown in the Teaching section, one per use case.

Each step says what to do, where in the panel, and what to look at afterwards. ``focus`` names the panel
section the step is about; :meth:`LessonPlayer.show` expands it so the learner does not have to hunt for it.
Kept Qt-free (text and a cursor) so the offscreen tests and the Slicer panel share it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LessonStep:
    title: str
    text: str
    focus: str  # inputs, lesion, synthesis, segment, results, teaching


@dataclass(frozen=True)
class Lesson:
    key: str
    title: str
    steps: tuple[LessonStep, ...]


LESSONS = (
    Lesson("tumor-what-if", "Tumour what-if: does the segmenter still find a tumour here?", (
        LessonStep("Load a brain", "Teaching > Load sample brain (the MNI152 T1 and its brain mask), or select "
                   "your own FLAIR/T1c volumes under Inputs and set Task to Brain tumour.", "inputs"),
        LessonStep("Place the centre", "Lesion > Tumour centre: create a point and click inside the white matter "
                   "in a slice view.", "lesion"),
        LessonStep("Shape the tumour", "Set the diameter, the oedema and enhancing-rim thickness in mm and the "
                   "irregularity; press Preview to see it as an overlay, then Place tumour.", "lesion"),
        LessonStep("Touch it up", "Use the embedded Segment Editor (Paint, Erase, Smoothing) to edit the new "
                   "segmentation. The original volumes are never changed.", "lesion"),
        LessonStep("Synthesize and segment", "Synthesis: keep the template engine for a first run (seconds on a "
                   "CPU), 3 variants; press Apply. Watch the step count and ETA; Cancel stops it cleanly.",
                   "synthesis"),
        LessonStep("Read the numbers", "Results: Dice and HD95 per region (hover a column for its formula), "
                   "the fidelity badge (did the synthetic image carry the lesion you drew?) and the trust "
                   "factors. Results layout puts the table beside the 3D view.", "results"),
    )),
    Lesson("scar-sweep", "Scar sweep: where in the heart does the segmenter fail?", (
        LessonStep("Load a heart", "Teaching > Load sample heart (a generated LGE short-axis stack with blood "
                   "pool and myocardium labels). Set Task to Cardiac scar.", "inputs"),
        LessonStep("Pick segments", "Lesion > click AHA segments on the bullseye: anterior is at the top, the "
                   "septum on the left. Start with 7, 8 and 13 (the LAD territory).", "lesion"),
        LessonStep("Transmurality and MVO", "Transmurality 0.5 means the scar reaches half-way from the "
                   "endocardium; add microvascular obstruction (MVO) to see a dark core.", "lesion"),
        LessonStep("Sweep", "Sweep segments (under the bullseye) runs one scar per selected segment, at this "
                   "transmurality, through synthesis and segmentation in the background; Apply turns into "
                   "Cancel, which stops it and leaves the scene as it was.", "lesion"),
        LessonStep("Compare segments", "Results: the bullseye colours each swept segment by its own Dice (red "
                   "low, green high, grey not swept), beside the sweep's table and the plot 'Dice per AHA "
                   "segment'. Sweep other segments to find where the model is weak.", "results"),
    )),
    Lesson("teaching", "Teaching: what makes a segmentation metric trustworthy?", (
        LessonStep("Start from the sample", "Load sample brain and place the default tumour (Preview, then "
                   "Place tumour).", "lesion"),
        LessonStep("One variant vs many", "Run with 1 variant, then with 5: the trust factors need several "
                   "variants to say how stable Dice is.", "synthesis"),
        LessonStep("Break it on purpose", "Shrink the tumour to 8 mm and run again: small lesions lower Dice "
                   "and raise HD95. Discuss why.", "lesion"),
        LessonStep("Compare mode", "Results > Compare: real and synthetic side by side in linked views; scroll "
                   "one and the other follows.", "results"),
    )),
)


def lesson(key: str) -> Lesson:
    for item in LESSONS:
        if item.key == key:
            return item
    raise ValueError(f"lesson {key!r} is unknown; choose one of {[item.key for item in LESSONS]}")


class LessonPlayer:
    """A cursor over one lesson's steps."""

    def __init__(self, key: str = LESSONS[0].key):
        self.lesson = lesson(key)
        self.index = 0

    def select(self, key: str) -> LessonStep:
        self.lesson, self.index = lesson(key), 0
        return self.step

    @property
    def step(self) -> LessonStep:
        return self.lesson.steps[self.index]

    @property
    def at_start(self) -> bool:
        return self.index == 0

    @property
    def at_end(self) -> bool:
        return self.index == len(self.lesson.steps) - 1

    def next(self) -> LessonStep:
        self.index = min(self.index + 1, len(self.lesson.steps) - 1)
        return self.step

    def back(self) -> LessonStep:
        self.index = max(self.index - 1, 0)
        return self.step

    def html(self) -> str:
        """The current step for a QLabel (rich text)."""
        step = self.step
        return (f"<b>Step {self.index + 1}/{len(self.lesson.steps)}: {step.title}</b><br>{step.text}")

    def show(self, ui) -> None:
        """The current step on the panel: its text, Back/Next, and the section it talks about opened."""
        ui.lessonStepLabel.text = self.html()
        ui.lessonBackButton.enabled = not self.at_start
        ui.lessonNextButton.enabled = not self.at_end
        section = getattr(ui, f"{self.step.focus}CollapsibleButton", None)
        if section is not None:
            section.collapsed = False
