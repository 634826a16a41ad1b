"""load_result / validate_result: good files load, bad files fail with a message naming the field."""
import copy
import json

import pytest

from attn_ref.lab import SCHEMA, ResultError, load_result, result_path, validate_result, write_result

GOOD = {
    "schema": SCHEMA, "name": "demo", "description": "a demo", "quick": True, "seed": 0,
    "config": {"a": 1}, "metrics": {"acc": 0.5, "curve": [[0, 1.0], [1, 0.5]], "none": None},
    "maps": {"m": {"values": [[0.1, 0.9], [1.0, 0.0]], "rows": "query", "cols": "key", "caption": "c",
                   "tokens": [3, 4]}},
    "citations": [{"paper": "P", "arxiv": "2209.11895"}],
    "provenance": {"code_version": None, "attn_ref_version": "0.1.0", "torch_version": "2", "python": "3.11",
                   "threads": 2, "date": "2026-01-01T00:00:00+00:00", "wall_time_s": 1.0, "command": None},
}


def _write(tmp_path, obj, name="demo"):
    p = tmp_path / f"{name}.json"
    p.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return p


def test_good_result_round_trips(tmp_path):
    p = write_result(GOOD, tmp_path / "demo.json")
    assert load_result("demo", p) == GOOD
    assert validate_result(copy.deepcopy(GOOD)) == GOOD


def test_result_path_and_env(tmp_path, monkeypatch):
    assert result_path("head_specialisation").parts[-3:] == ("results", "experiments", "head_specialisation.json")
    monkeypatch.setenv("ATTN_REF_RESULTS", str(tmp_path))
    assert result_path("x") == tmp_path / "x.json"
    _write(tmp_path, GOOD)
    assert load_result("demo")["name"] == "demo"
    with pytest.raises(ValueError, match="experiment name"):
        result_path("../etc")


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r.pop("metrics"), "required field 'metrics' is missing"),
    (lambda r: r.update(seed="0"), "field 'seed' must be integer, got string"),
    (lambda r: r.update(seed=True), "field 'seed' must be integer, got boolean"),
    (lambda r: r.update(quick=1), "field 'quick' must be boolean"),
    (lambda r: r.update(schema="other/1"), "field 'schema' must be"),
    (lambda r: r["provenance"].pop("date"), "'provenance.date' is missing"),
    (lambda r: r["provenance"].update(threads="2"), "'provenance.threads' must be integer"),
    (lambda r: r.update(metrics={}), "'metrics' is empty"),
    (lambda r: r["metrics"].update(acc=float("nan")), "metrics.acc: must be a finite number"),
    (lambda r: r["maps"]["m"].pop("caption"), "maps.m: required field 'caption' is missing"),
    (lambda r: r["maps"]["m"].update(values=[[0.1, 0.2], [0.3]]), "must be rectangular"),
    (lambda r: r["maps"]["m"].update(values=[[0.0] * 33]), r"at most 32×32"),
    (lambda r: r["maps"]["m"].update(values=[[0.0, "x"]]), r"values\[0\]\[1\] must be a finite number"),
    (lambda r: r["maps"]["m"].update(tokens=[1.5]), "tokens must be a list of integers"),
    (lambda r: r.update(citations=[{"paper": "P"}]), r"citations\[0\]"),
])
def test_bad_results_fail_clearly(tmp_path, mutate, message):
    bad = copy.deepcopy(GOOD)
    mutate(bad)
    p = _write(tmp_path, bad)
    with pytest.raises(ResultError, match=message) as info:
        load_result("demo", p)
    assert str(p) in str(info.value)                                  # the message names the file


def test_unreadable_missing_and_mismatched_files(tmp_path):
    with pytest.raises(ResultError, match="not a readable JSON file"):
        load_result("demo", _write(tmp_path, "{not json"))
    with pytest.raises(ResultError, match="expected a JSON object"):
        load_result("demo", _write(tmp_path, "[1, 2]"))
    with pytest.raises(ResultError, match=r"no result file .* scripts/experiments\.py run demo"):
        load_result("demo", tmp_path / "missing.json")
    with pytest.raises(ResultError, match="holds the result of experiment 'demo', expected 'other'"):
        load_result("other", _write(tmp_path, GOOD))
    assert issubclass(ResultError, ValueError)
