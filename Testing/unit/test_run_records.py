"""A run's typed records: the same numbers as before the records existed (the golden run), a JSON round trip
that keeps NaN as null, one table definition whose titles are spelt in one place, and settings that refuse
what they do not know."""

from __future__ import annotations

import ast
import importlib.util
import json
import math

import pytest

from conftest import REPOSITORY
from synthtrust.errors import InputError
from synthtrust.metrics.catalogue import AUDIT_CATALOGUE, METRIC_CATALOGUE
from synthtrust.metrics.regions import RegionMetrics
from synthtrust.results import (
    Audits,
    EvaluationRecord,
    Prediction,
    RunRecord,
    SweepRecord,
    SweepRow,
    Variant,
    table,
)
from synthtrust.settings import EngineOptions, RunSettings
from synthtrust.trust.factors import DiceTable, compute_trust

GOLDEN = REPOSITORY / "Testing" / "data" / "golden_run.json"
# The one deliberate change: sweep rows are keyed by the catalogue's names (they were spelt by hand before).
RENAMED_SWEEP_KEYS = {"fidelity dice": "fidelity_dice", "fidelity passed": "fidelity_passed",
                      "hallucinated ml": "hallucinated_ml", "off-target voxels": "off_target_voxels",
                      "lesion ml": "lesion_ml"}


def _golden_script():
    spec = importlib.util.spec_from_file_location("record_golden_run", REPOSITORY / "scripts" / "record_golden_run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _assert_same(expected, actual, path="golden"):
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and sorted(expected) == sorted(actual), f"{path}: keys differ"
        for key in expected:
            _assert_same(expected[key], actual[key], f"{path}/{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(expected) == len(actual), f"{path}: lengths differ"
        for index, (a, b) in enumerate(zip(expected, actual, strict=True)):
            _assert_same(a, b, f"{path}[{index}]")
    elif isinstance(expected, float) and not isinstance(expected, bool):
        assert actual == pytest.approx(expected, abs=1e-6), path
    else:
        assert actual == expected, path


def test_the_worker_and_the_demo_loop_give_the_numbers_recorded_before_the_typed_records():
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for row in golden["heart_sweep"]["sweep_rows"]:
        for old, new in RENAMED_SWEEP_KEYS.items():
            if old in row:
                row[new] = row.pop(old)
    _assert_same(golden, _golden_script().golden_numbers())


def _record() -> RunRecord:
    nan = float("nan")
    region = RegionMetrics(0.5, nan, nan, 0.25, 1.0, 0.0, -1.0, -1.0, 0, 0, 1, 0.0, 0.0, 0.0, "prediction")
    evaluation = EvaluationRecord("emidec", 1.0, {"name": "brats"}, {"scar": region})
    audits = Audits({"dice": 0.5, "threshold": 0.6, "passed": False}, {"volume_ml": 0.25, "voxels": 3},
                    {"voxels_changed": 0, "max_abs_change": 0.0})
    trust = compute_trust(None, DiceTable.from_scores({"a": {"scar": 0.5}, "b": {"scar": 0.7}}), n_bootstrap=20)
    from synthtrust.results import SegmenterInfo, TrustRecord

    row = SweepRow({"segment": 7, "transmurality": 0.5, "extent": 1.0}, "ok", "model", 0, 3, 2.0,
                   {"scar": {"dice": 0.5, "hd95": nan}}, audits, {"synthesis": 0.1, "total": 0.3})
    skipped = SweepRow({"segment": 13, "transmurality": 0.5, "extent": 1.0}, "not placed: no myocardium")
    return RunRecord("run", "cardiac-scar", "emidec", "template", ["lge"], 3,
                     [Variant(0, 3, ["v.nrrd"], {"seed": 3}, [Prediction(0, "p.nrrd", evaluation, audits)])],
                     [SegmenterInfo(0, "model", "ab" * 32)], [TrustRecord(0, "model", trust)],
                     sweep=SweepRecord({"segments": [7, 13]}, "scar", "sweep.csv", [row, skipped]))


def test_a_run_record_survives_strict_json_with_undefined_values_as_null(tmp_path):
    record = _record()
    text = json.dumps(record.to_json(), allow_nan=False)  # raises if a NaN slipped through
    data = json.loads(text)
    assert data["variants"][0]["predictions"][0]["metrics"]["regions"]["scar"]["hd95"] is None
    back = RunRecord.from_json(data)
    assert math.isnan(back.variants[0].predictions[0].metrics.regions["scar"].hd95)
    assert back.variants[0].predictions[0].metrics.regions["scar"].detected_fn == 1
    assert back.to_json() == data
    assert back.sweep.rows[1].status.startswith("not placed") and back.sweep.rows[0].audits.hallucinated_ml == 0.25
    assert math.isnan(back.sweep.rows[0].regions["scar"]["hd95"])
    assert RunRecord.read(record.write(tmp_path / "results.json")).to_json() == data


def test_the_results_table_takes_its_headers_units_and_descriptions_from_the_catalogue():
    headers = [c.header for c in table.RESULTS_TABLE]
    assert {"Dice", "HD95 (mm)", "Surface Dice", "Hallucinated (mL)", "Off-target voxels", "T5"} <= set(headers)
    rows = table.results_rows(_record())
    assert [r["region"] for r in rows] == ["scar"] and list(rows[0]) == headers
    assert rows[0]["Fidelity"] == "fail" and rows[0]["Hallucinated (mL)"] == 0.25 and math.isnan(rows[0]["HD95 (mm)"])
    assert "std over cases" in table.descriptions()["T5"]
    assert table.descriptions()["HD95 (mm)"].startswith("95th percentile")
    assert table.dice_per_segment_rows(RunRecord.from_json(_record().to_json())) == []


def _string_constants(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def test_each_results_column_title_is_spelt_in_one_place_only():
    sources = [p for folder in ("Logic", "SynthTrustSlicer", "scripts") for p in (REPOSITORY / folder).rglob("*.py")]
    constants = {path: _string_constants(path) for path in sources}
    catalogue = REPOSITORY / "Logic" / "synthtrust" / "metrics" / "catalogue.py"
    measured = {c.key for name in ("results", "demo metrics", "demo audits") for c in table.TABLES[name]}
    entries = [e for e in (*METRIC_CATALOGUE, *AUDIT_CATALOGUE) if e.name in measured]
    assert len(entries) >= 15
    for entry in entries:
        spelt = {str(path.relative_to(REPOSITORY)): values.count(entry.title) + (
            values.count(entry.header) if entry.header != entry.title else 0)
            for path, values in constants.items() if entry.title in values or entry.header in values}
        assert spelt == {str(catalogue.relative_to(REPOSITORY)): 1}, f"{entry.header!r} spelt in {spelt}"


def test_settings_refuse_an_unknown_engine_option_and_name_the_valid_ones():
    with pytest.raises(InputError, match="unknown key.*'stpes'.*valid keys are model, steps"):
        EngineOptions.from_json({"stpes": 10}, "engine_options")
    settings = RunSettings("run", "brain-tumor", ["c.nrrd"], ["t1"], lesion="l.nrrd", engine="inpaint",
                           engine_options={"steps": 10, "guidance": 2})
    settings.validate()
    assert settings.schema == "brats" and settings.engine_options.given() == {"steps": 10, "guidance": 2.0}
    assert RunSettings.from_json(json.loads(json.dumps(settings.to_json()))) == settings
    with pytest.raises(InputError, match="'variants' must be an integer, not the string '3'"):
        RunSettings.from_json({**settings.to_json(), "variants": "3"}, "job.json")
    with pytest.raises(InputError, match="engine option steps 0 must be at least 1"):
        RunSettings("run", "brain-tumor", ["c.nrrd"], ["t1"], lesion="l.nrrd", engine_options={"steps": 0})


def test_dice_per_aha_segment_is_the_mean_of_each_segments_placed_edits():
    from synthtrust.sweep import dice_per_segment

    def row(segment, dice, status="ok", segmenter="m"):
        return SweepRow({"segment": segment, "transmurality": 0.5}, status, segmenter, 0, 0, 1.0,
                        {"scar": {"dice": dice}})

    rows = [row(7, 0.8), row(7, 0.6), row(8, float("nan")), row(9, 0.9, "not placed: outside the stack"),
            row(7, 0.2, segmenter="other")]
    entries = dice_per_segment(rows, "scar")
    assert [(e.segmenter, e.segment, e.edits) for e in entries] == [("m", 7, 2), ("other", 7, 1)]
    assert entries[0].dice == pytest.approx(0.7)


def test_every_engine_option_reaches_an_engine_parameter():
    # EngineOptions is the one list of options; the learned engine must take each (none silently dropped).
    import inspect
    from dataclasses import fields

    from synthtrust.synthesis.diffusion.engine import DiffusionSynthesizer

    parameters = set(inspect.signature(DiffusionSynthesizer.__init__).parameters)
    taken_by_the_quality_filter = {"quality_threshold", "candidates"}
    assert {f.name for f in fields(EngineOptions)} - taken_by_the_quality_filter <= parameters
