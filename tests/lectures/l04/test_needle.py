"""L04.3 Needle in a haystack: the protocol sample follows the lab's inserter rule, the heat maps, answer rows,
multi-needle and sliding-window data are the committed file read with json, the dilution curve is the closed
form, and the cited figures carry their sources."""
from __future__ import annotations

import math

import pytest

from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import context as eqc
from scenes.l04_context import data as d

from ._helpers import assert_one_topic_section, assert_scene_constructs, raw_result, with_clauses

RAW = raw_result()
M = RAW["metrics"]


def test_protocol_follows_the_lab_inserter():
    p = d.protocol()
    cfg = RAW["config"]["task"]
    assert p.context_len == cfg["context_len"] == 64 and p.haystack_len == 62 and p.depth == 0.5
    assert p.needle_start == round(0.5 * (p.haystack_len - 3)) == 30            # exact position, no backtracking
    t = p.tokens
    mark, query, k0, v0, f0 = 0, 1, 2, 2 + cfg["n_keys"], 2 + cfg["n_keys"] + cfg["n_values"]
    assert t[p.needle_start] == mark and t[-2] == query and t[-1] == t[p.needle_start + 1]   # asked: the needle's key
    assert p.needle_value_pos == p.needle_start + 2 and p.query_pos == 63
    assert p.answer == f"v{t[p.needle_value_pos] - v0}"
    assert len(p.distractor_starts) == cfg["n_distractors"] == 3
    for s in p.distractor_starts:
        assert t[s] == mark and t[s + 1] != t[-1] and k0 <= t[s + 1] < v0 and v0 <= t[s + 2] < f0
    starts = sorted([p.needle_start, *p.distractor_starts])
    assert all(starts[i + 1] - starts[i] >= 3 for i in range(len(starts) - 1))   # needles do not overlap
    needle_cells = {s + i for s in starts for i in range(3)}
    assert all(t[i] >= f0 for i in range(p.haystack_len) if i not in needle_cells)   # filler everywhere else
    assert p.labels[p.needle_start] == "▸" and p.labels[-2] == "?" and p.labels[0].startswith("·")
    assert "backtracks to the previous '.'" in p.reference_inserter and "35" in p.reference_inserter


def test_heat_maps_are_the_file():
    h = d.heat_maps()
    assert h.train_length == 64 and h.lengths == (64, 128, 256) and h.multiples == (1.0, 2.0, 4.0)
    assert h.depths == tuple(M["depths"]) and h.n_eval == 100
    assert [m.scheme for m in h.maps] == ["rope", "rope_pi", "rope_yarn", "nope", "alibi"]
    for m in h.maps:
        raw = M["schemes"][m.scheme]
        assert m.accuracy == tuple(map(tuple, raw["accuracy"]))
        assert m.accuracy_by_length == tuple(raw["accuracy_by_length"])
        assert m.needle_mass == tuple(map(tuple, raw["needle_mass"]))
        assert m.distractor_mass == tuple(map(tuple, raw["distractor_mass"]))
        assert m.accuracy == tuple(map(tuple, RAW["maps"][f"accuracy_{m.scheme}"]["values"]))
    by = {m.scheme: m for m in h.maps}
    assert by["rope"].accuracy_by_length == (1.0, 0.91, 0.714)                 # plain RoPE fails beyond 64
    assert by["rope_pi"].accuracy_by_length[-1] == 1.0 and "no fine-tuning" in h.caption


def test_answer_rows_masses():
    a = d.answer_rows()
    assert a.n_heads == 4 and [r.scheme for r in a.rows] == ["rope", "nope", "alibi"]
    for r in a.rows:
        raw = RAW["maps"][f"answer_row_{r.scheme}"]
        assert r.tokens == tuple(raw["tokens"]) and r.weights == tuple(map(tuple, raw["values"]))
        assert "needle at 14..16 (value at 16)" in raw["caption"] and r.needle_value_pos == 16
        assert r.distractor_value_pos == (7, 20, 25)                          # starts [5, 23, 18] + 2
        for i, row in enumerate(raw["values"]):
            assert r.needle_value_mass[i] == row[16]
            assert r.needle_mass[i] == pytest.approx(row[14] + row[15] + row[16])              # span 14..16
            spans = [p for s0 in (5, 23, 18) for p in range(s0, s0 + 3)]
            assert r.distractor_mass[i] == pytest.approx(sum(row[p] for p in spans))
        assert r.needle_mass[r.best_row] == max(r.needle_mass)
        assert (r.best_layer, r.best_head) == divmod(r.best_row, 4)
    rope = a.rows[0]
    assert rope.needle_value_mass[rope.best_row] > 0.99 > 0.01 > rope.distractor_mass[rope.best_row]


def test_multi_needle_and_sliding_window_are_the_file():
    mn = d.multi_needle()
    raw = M["multi_needle"]
    assert (mn.n_needles, mn.n_queries, mn.lengths) == (8, 4, (64, 128, 256))
    for s, row, single in zip(mn.schemes, mn.accuracy_by_length, mn.single_by_length):
        assert row == tuple(raw["schemes"][s]["accuracy_by_length"])
        assert single == tuple(M["schemes"][s]["accuracy_by_length"])
    sw = d.sliding_window()
    raw = M["sliding_window"]
    assert (sw.window, sw.n_layers, sw.reach, sw.one_hop_reach) == (16, 2, 31, 15)
    assert sw.reach == sw.n_layers * (sw.window - 1) + 1
    assert sw.lengths == (64, 128) and sw.accuracy == (tuple(raw["accuracy"]["64"]), tuple(raw["accuracy"]["128"]))
    assert (sw.within_one_hop, sw.beyond_reach, sw.chance) == (1.0, 0.04875, 0.0625)
    far = [a for dist, a in zip(sw.distances, sw.accuracy[1]) if dist > sw.reach]
    assert sum(far) / len(far) < 0.1


def test_dilution_closed_form():
    dl = d.dilution()
    for delta, row in zip(dl.deltas, dl.weights):
        for n, p in zip(dl.n_distractors, row):
            assert p == pytest.approx(math.exp(delta) / (math.exp(delta) + n), rel=1e-12)
    for p, row in zip(dl.target_p, dl.margins):
        for n, delta in zip(dl.n_distractors, row):
            assert delta == pytest.approx(math.log(p * n / (1 - p)), abs=1e-12)
        assert row[-1] - row[-2] == pytest.approx(math.log(10))
    assert dl.per_decade == math.log(10) and dl.max_closed_form_gap < 1e-14
    assert dl.margin_128k == pytest.approx(tuple(math.log(p * 131_071 / (1 - p)) for p in dl.target_p))
    assert dl.context_128k == 128 * 1024                                    # the 128K context of margin_128k
    assert dl.weights[0][0] == 0.5                                          # Δ = 0 against one distractor


def test_cited_niah():
    c = {x.what.split(":")[0]: x for x in d.cited_niah()}
    lost = c["Lost in the Middle"]
    assert "56.1%" in lost.figure and "88.3%" in lost.figure and "2307.03172" in lost.source
    ruler = [x for x in d.cited_niah() if "2404.06654" in x.source]
    assert len(ruler) == 3 and any("85.6" in x.figure for x in ruler)
    assert any("only half of them" in x.figure for x in ruler)
    assert "[verify]" in c["NoLiMa"].source


def test_dilution_equation_fails_when_wrong():
    w, m = EQUATIONS["softmax_dilution"].clauses
    with pytest.raises(EquationError):
        with_clauses("softmax_dilution", Clause(w.lhs, eqc._frac(eqc.sp.exp(eqc.Delta), eqc.N)), m).check()
    with pytest.raises(EquationError):
        with_clauses("softmax_dilution", w, Clause(m.lhs, eqc.sp.log(eqc._mul(eqc.p_w, eqc.N)))).check()


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs("NeedleHaystack")


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section("l04_needle.py", "L04.3")
