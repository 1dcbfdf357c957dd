"""The engines and segmenters as the worker runs them: reporting progress as protocol messages, each
variant synthesized once for every segmenter, and segmenters loaded by name (default, manifest id, file)."""

from __future__ import annotations

from pathlib import Path

from synthtrust.errors import InputError
from synthtrust.worker.protocol import Emitter


class Plan:
    """Overall progress: units of work (a synthesis, a segmentation), each 0..1 done."""

    def __init__(self, units: int):
        self.units, self.done = max(units, 1), 0

    def fraction(self, within: float = 0.0) -> float:
        return round(min((self.done + within) / self.units, 1.0), 4)

    def advance(self) -> None:
        self.done += 1


class ObservedSynthesizer:
    """An engine reporting progress; each seed is synthesized once and reused for every segmenter."""

    def __init__(self, synthesizer, emitter: Emitter, plan: Plan, anatomy=None):
        self.synthesizer, self.emitter, self.plan, self.anatomy = synthesizer, emitter, plan, anatomy
        self.name = getattr(synthesizer, "name", "engine")
        self.results: dict[int, object] = {}

    def synthesize(self, channels, lesion, schema, modalities, seed: int = 0, **_):
        if seed in self.results:
            return self.results[seed]
        self.emitter.start_stage("synthesize")

        def step(done: int, total: int, message: str) -> None:
            self.emitter.step(done, total, f"seed {seed}: {message}", self.plan.fraction(done / max(total, 1)))

        # Every engine takes the anatomy (the Synthesizer interface); the template engine ignores it.
        result = self.synthesizer.synthesize(channels, lesion, schema, modalities, seed=seed, progress=step,
                                             anatomy=self.anatomy)
        self.plan.advance()
        self.results[seed] = result
        return result


class ObservedSegmenter:
    """A segmenter reporting progress, given the channels by modality name when its names match; without
    an emitter it reports nothing (a sweep reports per edit instead)."""

    def __init__(self, segmenter, modalities: list[str], emitter: Emitter | None = None, plan: Plan | None = None):
        from synthtrust.models.channels import canonical_channel

        self.segmenter, self.emitter, self.plan = segmenter, emitter, plan
        names = [canonical_channel(m) for m in modalities]
        self.names = names if sorted(names) == sorted(segmenter.config.channels) else None

    def predict(self, channels, **_):
        if self.emitter is None:
            return self.segmenter.predict(channels, channel_names=self.names)
        self.emitter.start_stage("segment")

        def step(done: int, total: int, message: str) -> None:
            self.emitter.step(done, total, f"{self.segmenter.model_id}: {message}",
                              self.plan.fraction(done / max(total, 1)))

        result = self.segmenter.predict(channels, progress=step, channel_names=self.names)
        self.plan.advance()
        return result


def load_segmenters(names: list[str], task: str, modalities: list[str], device: str) -> list:
    """``default`` (the task's shipped model for these channels), a manifest id, or a local file/bundle."""
    from synthtrust.models.manifest import read_manifest, verify_model_file
    from synthtrust.segmentation.loading import load_checkpoint, load_default_segmenter, load_segmenter

    segmenters = []
    for name in names or ["default"]:
        if name == "default":
            segmenters.append(load_default_segmenter(task, modalities, device))
            continue
        if Path(name).exists():
            segmenters.append(load_segmenter(name, device, task))
            continue
        entries = {e.id: e for e in read_manifest() if e.kind == "segmenter"}
        if name not in entries:
            raise InputError(f"segmenter {name!r} is neither a file nor a model of the manifest ({sorted(entries)}); "
                             "choose a listed model or a local checkpoint / MONAI bundle")
        entry = entries[name]
        verify_model_file(entry)
        segmenter = load_checkpoint(entry.weights_path, entry.config_path, device, sha256=entry.sha256.lower())
        segmenter.model_id = entry.id
        segmenters.append(segmenter)
    return segmenters
