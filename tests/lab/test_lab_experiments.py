"""Every experiment: a quick run gives a valid, deterministic result; committed results load, match their
current configuration, and the cheapest one is regenerated exactly from scratch."""
import json

import pytest

from attn_ref.lab import (EXPERIMENTS, METADATA_FIELDS, ResultError, experiment_config, list_experiments,
                          load_result, result_path, run_experiment, validate_result)

NAMES = list_experiments()
CHEAPEST = "head_specialisation"


def _numbers(result):
    """Everything but the metadata that may differ between reproductions (date, wall time, commit, …)."""
    return {k: v for k, v in result.items() if k not in METADATA_FIELDS}


def test_registry():
    assert NAMES == ["head_count", "head_specialisation", "needle_haystack", "gqa_uptraining", "attention_noise",
                     "routing_balance", "recall_capacity"]
    for name in NAMES:
        e = EXPERIMENTS[name]
        assert e.citations and all(c["arxiv"] for c in e.citations)
        assert json.loads(json.dumps(e.full)) == e.full                  # configs are plain JSON
    with pytest.raises(ValueError, match="unknown experiment"):
        experiment_config("nope")


@pytest.mark.parametrize("name", NAMES)
def test_quick_run_is_valid_and_deterministic(name, tmp_path):
    a = run_experiment(name, quick=True, write=True, path=tmp_path / f"{name}.json", threads=1)
    b = run_experiment(name, quick=True, threads=1)
    assert a["quick"] is True and a["name"] == name
    validate_result(json.loads((tmp_path / f"{name}.json").read_text()))
    assert load_result(name, tmp_path / f"{name}.json") == json.loads(json.dumps(a))
    assert _numbers(a) == _numbers(b)                                     # same seed -> identical numbers
    assert a["provenance"]["threads"] == 1
    for m in a["maps"].values():
        assert len(m["values"]) <= 32 and len(m["values"][0]) <= 32


def test_quick_runs_never_overwrite_committed_results():
    with pytest.raises(ValueError, match="quick run"):
        run_experiment(CHEAPEST, quick=True, write=True)


@pytest.mark.parametrize("name", NAMES)
def test_committed_result_loads_and_matches_its_configuration(name):
    try:
        res = load_result(name)
    except ResultError as e:
        pytest.fail(f"committed result missing or invalid: {e}")
    assert res["quick"] is False
    assert res["config"] == experiment_config(name), (
        f"{result_path(name)} was produced by another configuration; rerun scripts/experiments.py run {name}")
    assert res["citations"] == [dict(c) for c in EXPERIMENTS[name].citations]


CROSS_MACHINE_TOL = 0.02
"""Largest difference allowed between a float of the committed result and its reproduction on another
machine (relative, absolute below 1). torch's CPU kernels sum in an order that depends on the processor, so
a 109-step training drifts: measured on an Intel Xeon against the committed file (written on another
AVX512 machine), at most 0.0071 in one attention-map entry (0.5628 vs 0.5557). On one machine the numbers
are bitwise identical (test_quick_run_is_valid_and_deterministic above)."""


def _differences(fresh, committed, path="", tol=CROSS_MACHINE_TOL) -> list[str]:
    """Where ``fresh`` differs from ``committed``: any structure, int, bool or string at all (phase-change
    step, best heads, captions), a float by more than ``tol``."""
    if isinstance(committed, dict):
        if not isinstance(fresh, dict) or set(fresh) != set(committed):
            return [f"{path}: keys differ"]
        return [d for k in committed for d in _differences(fresh[k], committed[k], f"{path}.{k}", tol)]
    if isinstance(committed, list):
        if not isinstance(fresh, list) or len(fresh) != len(committed):
            return [f"{path}: lengths differ"]
        return [d for i, (u, v) in enumerate(zip(fresh, committed)) for d in _differences(u, v, f"{path}[{i}]", tol)]
    if isinstance(committed, float) and isinstance(fresh, float):
        ok = abs(fresh - committed) <= tol * max(1.0, abs(committed))
        return [] if ok else [f"{path}: {fresh} vs committed {committed}"]
    return [] if fresh == committed and type(fresh) is type(committed) else [f"{path}: {fresh!r} vs {committed!r}"]


def test_reproduction_check_catches_drift():
    committed = {"step": 210, "scores": [0.5557, 0.9], "best": {"layer": 0, "head": 1}}
    assert _differences({"step": 210, "scores": [0.5628, 0.9], "best": {"layer": 0, "head": 1}}, committed) == []
    assert _differences({"step": 220, "scores": [0.5557, 0.9], "best": {"layer": 0, "head": 1}}, committed)
    assert _differences({"step": 210, "scores": [0.6, 0.9], "best": {"layer": 0, "head": 1}}, committed)
    assert _differences({"step": 210, "scores": [0.5557, 0.9], "best": {"layer": 0, "head": 2}}, committed)
    assert _differences({"step": 210.0, "scores": [0.5557, 0.9], "best": {"layer": 0, "head": 1}}, committed)


@pytest.mark.slow
def test_cheapest_full_experiment_is_reproduced():
    """Regenerates the committed head_specialisation result in this process (the file was written by
    scripts/experiments.py in another, on another machine) and compares every number: discrete results
    exactly, floats within CROSS_MACHINE_TOL."""
    committed = load_result(CHEAPEST)
    fresh = json.loads(json.dumps(run_experiment(CHEAPEST, threads=committed["provenance"]["threads"])))
    problems = _differences(_numbers(fresh), _numbers(committed))
    assert not problems, "\n".join(problems[:20])


def test_quick_run_with_checkpoints_resumes_to_the_same_result(tmp_path):
    plain = run_experiment("routing_balance", quick=True, threads=1)
    first = run_experiment("routing_balance", quick=True, threads=1, checkpoint_dir=tmp_path)
    cks = sorted(p.name for p in (tmp_path / "routing_balance").iterdir())
    assert cks == ["routing_alpha_0.01_.pt", "routing_alpha_0.1_.pt", "routing_alpha_0_.pt"]
    again = run_experiment("routing_balance", quick=True, threads=1, checkpoint_dir=tmp_path)   # resumes at the end
    assert _numbers(plain) == _numbers(first) == _numbers(again)
