"""The learned engines on tiny generators trained in the test (CPU, seconds): inpaint and conditional in
3D and 2D, determinism, cancel, guidance, the quality filter, OOM fallback, every checkpoint format,
resumable training, and clear refusals of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from synthtrust.errors import CancelledError, InputError
from synthtrust.labels.schema import get_schema
from synthtrust.synthesis.diffusion import sampler as sampler_module
from synthtrust.synthesis.diffusion.config import preset
from synthtrust.synthesis.diffusion.engine import DiffusionSynthesizer
from synthtrust.synthesis.diffusion.model import load_generator
from synthtrust.training.datasets import toy_case
from synthtrust.training.generator import GeneratorTraining, train_generator
from synthtrust.training.generator_data import toy_cases

BRAIN = ("brain-tumor", ["flair", "t1c"], "brats")
HEART = ("cardiac-scar", ["lge"], "emidec")


def _train(folder: Path, task: str, channels: list[str], iterations: int = 3, resume: bool = False):
    config = preset(task, channels, tiny=True)
    config.id = f"tiny-{task}"
    config.spacing_mm = [2.0, 2.0, 2.0 if config.spatial_dims == 3 else 0.0]
    training = GeneratorTraining(config, toy_cases(task, channels), [{"source": "toy", "licence": "generated",
                                                                      "cases": 2, "use": "tests"}],
                                 folder, iterations=iterations, batch_size=2, checkpoint_every=2)
    return train_generator(training, resume=resume), folder / f"{config.id}.safetensors"


@pytest.fixture(scope="module")
def generators(tmp_path_factory):
    folder = tmp_path_factory.mktemp("generators")
    return {task: _train(folder, task, channels)[1] for task, channels, _ in (BRAIN, HEART)}


@pytest.fixture(scope="module")
def tiny_segmenter():
    from monai.networks.nets import UNet

    from synthtrust.segmentation.config import NetworkConfig
    from synthtrust.segmentation.segmenter import Segmenter

    torch.manual_seed(0)
    config = NetworkConfig(architecture="unet", channels=["flair", "t1c"], task="brain-tumor",
                           label_values=[0, 1, 2, 4], network_kwargs={"channels": [4, 8], "strides": [2]},
                           normalization="zscore-nonzero", target_spacing_mm=None, roi_size=(16, 16, 16))
    network = UNet(spatial_dims=3, in_channels=2, out_channels=4, channels=(4, 8), strides=(2,))
    return Segmenter(network, config, "cpu", "tiny-segmenter", "0" * 64)


def synthesize(path, task_spec, engine="inpaint", seed=1, **options):
    task, channels, schema = task_spec
    case = toy_case(task, channels, 99)
    synthesizer = DiffusionSynthesizer(engine, generator=load_generator(path), steps=3, device="cpu", **options)
    return case, synthesizer.synthesize(case.channels, case.labels, get_schema(schema), channels, seed=seed)


@pytest.mark.parametrize("task_spec", [BRAIN, HEART], ids=["3d-brain", "2d-heart"])
def test_inpainting_changes_the_lesion_and_keeps_every_other_voxel_bit_identical(generators, task_spec):
    case, result = synthesize(generators[task_spec[0]], task_spec)
    lesion = get_schema(task_spec[2]).lesion_mask(case.labels.array)
    for original, synthetic in zip(case.channels, result.channels, strict=True):
        assert np.array_equal(original.array[~lesion], synthetic.array[~lesion])
        assert not np.array_equal(original.array[lesion], synthetic.array[lesion])
        assert synthetic.geometry.matches(original.geometry)
    assert np.array_equal(result.edit_region, lesion)
    assert result.provenance["engine"] == "inpaint" and result.provenance["model_sha256"]


@pytest.mark.parametrize("task_spec", [BRAIN, HEART], ids=["3d-brain", "2d-heart"])
def test_conditional_generation_changes_only_a_feathered_margin_around_the_lesion(generators, task_spec):
    case, result = synthesize(generators[task_spec[0]], task_spec, engine="conditional", blend_mm=3.0)
    lesion = get_schema(task_spec[2]).lesion_mask(case.labels.array)
    changed = np.any([o.array != s.array for o, s in zip(case.channels, result.channels, strict=True)], axis=0)
    assert changed[lesion].mean() > 0.9
    assert not (changed & ~result.edit_region).any()
    assert result.edit_region.sum() > lesion.sum()


def test_the_whole_image_can_be_generated_when_it_fits(generators):
    case, result = synthesize(generators["brain-tumor"], BRAIN, engine="conditional", whole_image=True)
    assert result.edit_region.all()
    assert (case.channels[0].array != result.channels[0].array).mean() > 0.9


def test_the_same_seed_gives_the_same_image_and_another_seed_another(generators):
    _, first = synthesize(generators["brain-tumor"], BRAIN, seed=5)
    _, again = synthesize(generators["brain-tumor"], BRAIN, seed=5)
    _, other = synthesize(generators["brain-tumor"], BRAIN, seed=6)
    assert np.array_equal(first.channels[0].array, again.channels[0].array)
    assert not np.array_equal(first.channels[0].array, other.channels[0].array)


def test_progress_counts_steps_and_cancelling_stops_with_nothing_returned(generators):
    case = toy_case("brain-tumor", ["flair", "t1c"], 99)
    synthesizer = DiffusionSynthesizer("inpaint", generator=load_generator(generators["brain-tumor"]), steps=4)
    seen = []
    synthesizer.synthesize(case.channels, case.labels, get_schema("brats"), ["flair", "t1c"],
                           progress=lambda i, n, message: seen.append((i, n, message)))
    assert [s[:2] for s in seen] == [(1, 4), (2, 4), (3, 4), (4, 4)] and "left" in seen[0][2]
    calls = iter([False, False, True])
    with pytest.raises(CancelledError, match="step 3/4"):
        synthesizer.synthesize(case.channels, case.labels, get_schema("brats"), ["flair", "t1c"],
                               should_cancel=lambda: next(calls))


def test_segmenter_guidance_runs_in_the_chosen_steps_and_changes_the_result(generators, tiny_segmenter):
    _, plain = synthesize(generators["brain-tumor"], BRAIN, seed=3)
    _, guided = synthesize(generators["brain-tumor"], BRAIN, seed=3, guidance=2.0, guidance_steps=(0.0, 0.7),
                           segmenter=tiny_segmenter)
    assert len(guided.provenance["guidance_losses"]) == 2  # round(0.7 * 3) guided steps of 3
    assert not np.array_equal(plain.channels[0].array, guided.channels[0].array)


def test_the_quality_filter_scores_every_candidate_and_keeps_the_best(generators, tiny_segmenter):
    from synthtrust.synthesis.quality import QualityFilter

    case = toy_case("brain-tumor", ["flair", "t1c"], 99)
    inner = DiffusionSynthesizer("inpaint", generator=load_generator(generators["brain-tumor"]), steps=2)
    result = QualityFilter(inner, tiny_segmenter, threshold=0.0, candidates=3).synthesize(
        case.channels, case.labels, get_schema("brats"), ["flair", "t1c"], seed=4)
    report = result.provenance["quality_filter"]
    assert len(report["candidates"]) == 3 and report["pass_rate"] == 1.0
    best = max(c["dice"] for c in report["candidates"])
    assert report["chosen_dice"] == best and report["candidates"][0]["seed"] == 4
    with pytest.raises(InputError, match="between 0 and 1"):
        QualityFilter(inner, tiny_segmenter, threshold=1.5)


def test_out_of_memory_on_2d_slices_retries_with_fewer_slices_per_call_and_gives_the_same_image(generators,
                                                                                               monkeypatch):
    _, reference = synthesize(generators["cardiac-scar"], HEART, seed=2)
    real_predict, batches = sampler_module._predict_noise, []

    def tight(network, model_input, timestep, max_batch, *rest):
        batches.append(max_batch or model_input.shape[0])
        if batches[-1] > 1:  # a GPU that holds one slice per network call
            raise torch.cuda.OutOfMemoryError("simulated: CUDA out of memory")
        return real_predict(network, model_input, timestep, max_batch, *rest)

    monkeypatch.setattr(sampler_module, "_predict_noise", tight)
    _, result = synthesize(generators["cardiac-scar"], HEART, seed=2)
    assert max(batches) > 1 and batches[-1] == 1
    assert any("ran out of memory" in note and "retried" in note for note in result.provenance["notes"])
    assert np.allclose(result.channels[0].array, reference.channels[0].array, atol=1e-4)


def test_after_out_of_memory_a_gpu_hands_over_to_the_cpu_and_the_cpu_gives_up():
    from synthtrust.synthesis.diffusion.memory import after_out_of_memory
    from synthtrust.synthesis.diffusion.sampler import SamplingRequest

    notes = []
    request = SamplingRequest((1, 2, 8, 8, 8))
    assert after_out_of_memory(torch.device("cuda"), request, 1024, notes) == torch.device("cpu")
    assert "generated on the CPU" in notes[-1]
    assert after_out_of_memory(torch.device("cpu"), request, 1024, notes) is None
    slices = SamplingRequest((6, 2, 8, 8))
    assert after_out_of_memory(torch.device("cuda"), slices, 1024, notes) == torch.device("cuda")
    assert slices.max_batch == 3 and "retried with 3" in notes[-1]


def test_ddpm_and_repaint_resampling_run_in_the_engine_and_keep_the_outside(generators):
    for options in ({"scheduler": "ddpm"}, {"resampling": 3}):
        case, result = synthesize(generators["brain-tumor"], BRAIN, seed=4, **options)
        lesion = get_schema("brats").lesion_mask(case.labels.array)
        assert np.array_equal(case.channels[0].array[~lesion], result.channels[0].array[~lesion])
        for key, value in options.items():
            assert result.provenance[key] == value


def test_healthy_filling_changes_only_the_region_and_needs_the_inpaint_engine(generators):
    case = toy_case("brain-tumor", ["flair", "t1c"], 99)
    region = case.labels.with_array((case.labels.array > 0).astype(np.uint8))
    synthesizer = DiffusionSynthesizer("inpaint", generator=load_generator(generators["brain-tumor"]), steps=3)
    result = synthesizer.fill_healthy(case.channels, region, "brain-tumor", ["flair", "t1c"], seed=1)
    inside = region.array > 0
    assert np.array_equal(case.channels[1].array[~inside], result.channels[1].array[~inside])
    assert not np.array_equal(case.channels[1].array[inside], result.channels[1].array[inside])
    assert result.provenance["purpose"] == "healthy-tissue inpainting"
    from_guess = synthesizer.fill_healthy(case.channels, region, "brain-tumor", ["flair", "t1c"], seed=1, strength=0.5)
    assert from_guess.provenance["strength"] == 0.5
    assert np.array_equal(case.channels[1].array[~inside], from_guess.channels[1].array[~inside])
    with pytest.raises(InputError, match="inpaint engine"):
        DiffusionSynthesizer("conditional", generator=load_generator(generators["brain-tumor"])).fill_healthy(
            case.channels, region, "brain-tumor", ["flair", "t1c"])
    with pytest.raises(InputError, match="empty"):
        synthesizer.fill_healthy(case.channels, region.with_array(np.zeros_like(region.array)), "brain-tumor",
                                 ["flair", "t1c"])


def test_guidance_and_the_filter_work_on_slice_wise_2d_generators(generators):
    from monai.networks.nets import UNet

    from synthtrust.segmentation.config import NetworkConfig
    from synthtrust.segmentation.segmenter import Segmenter
    from synthtrust.synthesis.quality import QualityFilter

    torch.manual_seed(0)
    config = NetworkConfig(architecture="unet", channels=["lge"], task="cardiac-scar", label_values=[0, 1, 2, 3, 4],
                           network_kwargs={"channels": [4, 8], "strides": [2]}, normalization="zscore-nonzero",
                           target_spacing_mm=None, roi_size=(16, 16, 16))
    segmenter = Segmenter(UNet(spatial_dims=3, in_channels=1, out_channels=5, channels=(4, 8), strides=(2,)),
                          config, "cpu", "tiny-lge-segmenter", "0" * 64)
    _, guided = synthesize(generators["cardiac-scar"], HEART, seed=1, guidance=1.0, segmenter=segmenter)
    assert len(guided.provenance["guidance_losses"]) == 2  # round(0.5 * 3) guided steps of 3
    case = toy_case(*HEART[:2], 99)
    inner = DiffusionSynthesizer("inpaint", generator=load_generator(generators["cardiac-scar"]), steps=2)
    result = QualityFilter(inner, segmenter, threshold=0.0, candidates=2).synthesize(
        case.channels, case.labels, get_schema("emidec"), ["lge"], seed=0)
    assert len(result.provenance["quality_filter"]["candidates"]) == 2


def test_a_region_that_needs_more_memory_than_there_is_is_refused_before_sampling(generators, monkeypatch):
    from synthtrust.synthesis.diffusion import memory

    monkeypatch.setattr(memory, "available_memory_bytes", lambda: 1024)
    with pytest.raises(InputError, match="memory"):
        synthesize(generators["brain-tumor"], BRAIN)


def test_bad_input_is_refused_with_the_fix(generators):
    case = toy_case("brain-tumor", ["flair", "t1c"], 99)
    generator = load_generator(generators["brain-tumor"])
    schema = get_schema("brats")
    with pytest.raises(InputError, match="reads 2 channel"):
        DiffusionSynthesizer("inpaint", generator=generator).synthesize(case.channels[:1], case.labels, schema,
                                                                        ["flair"])
    with pytest.raises(InputError, match="cardiac-scar images, not brain-tumor|makes"):
        DiffusionSynthesizer("inpaint", generator=load_generator(generators["cardiac-scar"])).synthesize(
            case.channels, case.labels, schema, ["flair", "t1c"])
    generator.config.max_region = [8, 8, 8]
    with pytest.raises(InputError, match="exceeds the generator's limit"):
        DiffusionSynthesizer("inpaint", generator=generator).synthesize(case.channels, case.labels, schema,
                                                                        ["flair", "t1c"])
    generator.config.max_region = [96, 96, 96]
    empty = case.labels.with_array(np.zeros_like(case.labels.array))
    outside = [c.with_array(np.where(case.labels.array > 0, 0, c.array).astype(np.float32)) for c in case.channels]
    anatomy = empty.with_array((case.labels.array == 0).astype(np.uint8))
    with pytest.raises(InputError, match="outside the anatomy"):
        DiffusionSynthesizer("inpaint", generator=generator).synthesize(outside, case.labels, schema,
                                                                        ["flair", "t1c"], anatomy=anatomy)


def test_generators_load_from_pt_files_and_monai_bundles_and_refuse_a_wrong_hash(generators, tmp_path):
    from safetensors.torch import load_file, save_file

    from synthtrust.models.manifest import ModelEntry, verify_model_file

    source = generators["brain-tumor"]
    state = load_file(str(source))
    pt = tmp_path / "mine.pt"
    torch.save(state, pt)
    (tmp_path / "mine.json").write_text(source.with_suffix(".json").read_text(encoding="utf-8"), encoding="utf-8")
    assert load_generator(pt).config.task == "brain-tumor"

    config = json.loads(source.with_suffix(".json").read_text(encoding="utf-8"))
    bundle = tmp_path / "bundle"
    (bundle / "configs").mkdir(parents=True)
    (bundle / "models").mkdir()
    save_file(state, str(bundle / "models" / "model.safetensors"))
    network_def = {"_target_": "monai.networks.nets.DiffusionModelUNet", "spatial_dims": 3, "in_channels": 9,
                   "out_channels": 2, "channels": config["network_channels"],
                   "attention_levels": config["attention_levels"], "num_res_blocks": 1, "num_head_channels": 16,
                   "norm_num_groups": 8}
    (bundle / "configs" / "inference.json").write_text(json.dumps({"network_def": network_def}), encoding="utf-8")
    extra = {k: v for k, v in config.items() if k not in ("format", "format_version")}
    (bundle / "configs" / "metadata.json").write_text(json.dumps({"name": "tiny bundle", "synthtrust": extra}), encoding="utf-8")
    loaded = load_generator(bundle)
    assert all(torch.equal(value, state[key]) for key, value in loaded.network.state_dict().items())
    network_def["_target_"] = "$__import__('os').system('echo unsafe')"
    (bundle / "configs" / "inference.json").write_text(json.dumps({"network_def": network_def}), encoding="utf-8")
    with pytest.raises(InputError, match="never runs code from a model folder"):
        load_generator(bundle)
    network_def["_target_"] = "monai.networks.nets.UNet"
    (bundle / "configs" / "inference.json").write_text(json.dumps({"network_def": network_def}), encoding="utf-8")
    with pytest.raises(InputError, match="'UNet' is not a DiffusionModelUNet"):
        load_generator(bundle)

    entry = ModelEntry(id="tiny", task="brain-tumor", channels=["flair", "t1c"], file=source.name, sha256="0" * 64,
                       folder=source.parent, kind="generator", engines=["inpaint"])
    with pytest.raises(InputError, match="sha256"):
        verify_model_file(entry)


def test_training_resumed_from_its_checkpoint_matches_an_uninterrupted_run(tmp_path):
    straight, _ = _train(tmp_path / "straight", *BRAIN[:2], iterations=4)
    _train(tmp_path / "resumed", *BRAIN[:2], iterations=2)
    resumed, _ = _train(tmp_path / "resumed", *BRAIN[:2], iterations=4, resume=True)
    assert resumed.resumed_from == 2 and np.allclose(resumed.losses, straight.losses, rtol=1e-5, atol=1e-6)
    assert (tmp_path / "resumed" / "tiny-brain-tumor_loss.png").stat().st_size > 1000
    card = (tmp_path / "resumed" / "tiny-brain-tumor.md").read_text(encoding="utf-8")
    assert "resumed at iteration 2" in card and "Training data" in card
