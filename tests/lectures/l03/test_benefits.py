"""L03.4 Benefits: the comparison table's cells recomputed, the lab per-scheme results against the committed
file read with json, and the cited ALiBi figures."""
from __future__ import annotations

import pytest

from scenes.l03_rope import data as d
from scenes.l03_rope.data import benefits as bn

from ._helpers import assert_one_topic_section, assert_scene_constructs, raw_result

RAW = raw_result("needle_haystack")


def test_comparison_table_rows():
    t = d.comparison_table()
    rows = {r.scheme: r for r in t.rows}
    assert list(rows) == ["sinusoidal", "learned absolute", "T5 bias", "ALiBi", "RoPE", "NoPE"]
    assert {k for k, r in rows.items() if r.relative} == {"T5 bias", "ALiBi", "RoPE"}
    assert {k for k, r in rows.items() if r.bias_in_kernel} == {"T5 bias", "ALiBi"}
    assert not rows["NoPE"].has_positions and all(r.has_positions for k, r in rows.items() if k != "NoPE")
    cfg = RAW["config"]["model"]
    assert rows["learned absolute"].extra_params == 256 * cfg["d_model"] == 16_384
    train = RAW["metrics"]["train"]
    assert train["learned"]["n_params"] - train["rope"]["n_params"] == rows["learned absolute"].extra_params
    assert rows["T5 bias"].extra_params == 32 * cfg["n_heads"]
    assert all(rows[k].extra_params == 0 for k in ("sinusoidal", "ALiBi", "RoPE", "NoPE"))
    by = {"sinusoidal": "sinusoidal", "learned absolute": "learned", "ALiBi": "alibi", "RoPE": "rope", "NoPE": "nope"}
    for name, key in by.items():
        assert rows[name].accuracy_at_4x == RAW["metrics"]["schemes"][key]["accuracy_by_length"][-1]
    assert rows["T5 bias"].accuracy_at_4x is None
    assert rows["RoPE"].toeplitz_deviation < 1e-12 and rows["sinusoidal"].toeplitz_deviation > 0.5
    assert rows["learned absolute"].toeplitz_deviation > 0.5
    assert all(r.cached_keys_valid for r in t.rows) and "needle_haystack" in t.source


def test_lab_results_are_the_file():
    lab, m = d.lab_results(), RAW["metrics"]
    assert lab.train_length == 64 and lab.lengths == (64, 128, 256) and lab.depths == tuple(m["depths"])
    assert [s.scheme for s in lab.schemes] == list(m["schemes"]) and set(lab.plan_schemes) <= set(m["schemes"])
    for s in lab.schemes:
        raw = m["schemes"][s.scheme]
        assert s.accuracy == tuple(tuple(r) for r in raw["accuracy"])
        assert s.accuracy_by_length == tuple(raw["accuracy_by_length"])
        assert s.multi_accuracy_by_length == tuple(m["multi_needle"]["schemes"][s.scheme]["accuracy_by_length"])
        assert s.loss_by_position == tuple(raw["loss_by_position"])
        inside = [x for x in raw["loss_by_position"][16:64] if x is not None]
        beyond = [x for x in raw["loss_by_position"][64:] if x is not None]
        assert s.mean_loss_inside == pytest.approx(sum(inside) / len(inside), abs=1e-12)
        assert s.mean_loss_beyond == pytest.approx(sum(beyond) / len(beyond), abs=1e-12)
        assert s.n_params == m["train"][raw["model"]]["n_params"]
        # each accuracy by length is the mean over depths
        for row, acc in zip(s.accuracy, s.accuracy_by_length):
            assert sum(row) / len(row) == pytest.approx(acc, abs=1e-9)
    by = {s.scheme: s for s in lab.schemes}
    # plain RoPE loses retrieval beyond the training length; PI and YaRN (no fine-tuning) recover it here
    assert by["rope"].accuracy_by_length[-1] < 0.8 < 0.99 < by["rope_pi"].accuracy_by_length[-1]
    assert by["rope_yarn"].accuracy_by_length[-1] > 0.99
    assert lab.n_params == 111_168 and "own tiny models" in lab.caption and "needle_haystack" in lab.source
    # the factors the scene names: needles at 4× the training length; PI/YaRN factor 256/64 in the loss run
    assert lab.longest_factor == m["lengths"][-1] / m["train_length"] == 4.0
    assert lab.loss_length == RAW["config"]["eval"]["loss_length"] == 256 and lab.loss_factor == 4.0
    assert lab.inside_from == 16 and len(by["rope"].loss_by_position) == lab.loss_length
    # PI without fine-tuning: high loss inside the training length (every angle ÷ 4), low beyond
    assert by["rope_pi"].mean_loss_inside > 10 * by["rope"].mean_loss_inside
    assert by["rope_pi"].mean_loss_beyond < by["rope"].mean_loss_beyond


def test_cited_alibi():
    c = d.cited_alibi()
    assert (c.params, c.train_length, c.eval_length) == ("1.3B", 1024, 2048)
    assert c.faster == "11% faster" and c.less_memory == "11% less memory"
    assert "extrapolates" in c.quote and "perplexity" in c.caveat and "2108.12409" in c.source


def test_module_constants():
    assert bn.PLAN_SCHEMES == ("rope", "rope_pi", "rope_yarn", "nope", "alibi")


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs("RopeBenefits")


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section("l03_benefits.py", "L03.4")
