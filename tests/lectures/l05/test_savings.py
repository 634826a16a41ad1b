"""L05.2 Memory savings: the counters against the closed forms (exact fractions), the sums' equations (a wrong
ratio fails), and the cache bytes per model against the configs' numbers written out."""
from __future__ import annotations

from fractions import Fraction

import pytest

from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import cache as E
from scenes.l05_kv_cache import data as d
from scenes.l05_kv_cache.data import savings as sv

from ._helpers import with_clauses


def test_counters_are_the_closed_forms():
    c = d.counters()
    dd = c.head_dim
    assert dd == 128 and c.steps == tuple(range(1, 17))
    for t, a, b, cb in zip(c.steps, c.flops_no_cache, c.flops_cache, c.cache_bytes):
        assert a == 2 * dd * t * (t + 1) and b == 4 * dd * t and cb == 2 * dd * t * 2
    for k, T in enumerate(c.steps):
        assert c.cumulative_no_cache[k] == Fraction(2 * dd * T * (T + 1) * (T + 2), 3)
        assert c.cumulative_cache[k] == 2 * dd * T * (T + 1)
        assert c.cumulative_saved[k] == c.cumulative_no_cache[k] - c.cumulative_cache[k]
        assert c.flops_saved[k] == 2 * dd * T * (T + 1) - 4 * dd * T == 2 * dd * T * (T - 1)
        assert c.bytes_added[k] == 2 * dd * 2                              # one K row and one V row, fp16
    for T, r, dr in zip(c.ratio_T, c.ratio, c.dense_ratio):
        assert r == pytest.approx((T + 2) / 3, rel=1e-15) and dr == pytest.approx((T + 1) / 2, rel=1e-15)
    assert c.ratio[c.ratio_T.index(1000)] == pytest.approx(334)


def test_sum_equations_hold_and_a_wrong_ratio_fails():
    assert EQUATIONS["cache_attention_flops"].check() and EQUATIONS["cache_dense_flops"].check()
    eq = EQUATIONS["cache_attention_flops"]
    wrong = Clause(E.rho_attn, E._frac(E._add(E.T, 1), 2))     # the dense ratio, not the attention one
    with pytest.raises(EquationError):
        with_clauses("cache_attention_flops", *eq.clauses[:2], wrong).check()
    eq = EQUATIONS["cache_dense_flops"]
    wrong_sum = Clause(eq.clauses[0].lhs, E._mul(2, E.P, E.T, E._add(E.T, 1)))
    with pytest.raises(EquationError):
        with_clauses("cache_dense_flops", wrong_sum, *eq.clauses[1:]).check()


# (layers, KV heads, head dim) from the configs, or MLA's 60 · (512 + 64); parameters as HF reports them
SHAPES = {"llama-2-7b": (32, 32, 128), "llama-2-70b": (80, 8, 128), "mistral-7b": (32, 8, 128)}
PARAMS = {"llama-2-7b": 6_738_415_616, "llama-2-70b": 68_976_648_192, "mistral-7b": 7_241_732_096}


def test_cache_memory_per_model():
    m = d.cache_memory()
    assert m.contexts == (4096, 32768, 131072)
    rows = {r.key: r for r in m.models}
    assert list(rows) == ["llama-2-7b", "llama-2-70b", "mistral-7b", "deepseek-v2"]
    for key, (L, h, hd) in SHAPES.items():
        r = rows[key]
        assert r.bytes_per_token == 2 * L * h * hd * 2
        assert r.cache_bytes == tuple(2 * L * h * hd * 2 * n for n in m.contexts)
        assert r.weight_bytes == 2 * PARAMS[key]
        assert r.cache_over_weights == tuple(c / r.weight_bytes for c in r.cache_bytes)
    assert [rows[k].kib_per_token for k in rows] == [512, 320, 128, 67.5]
    assert rows["deepseek-v2"].bytes_per_token == 60 * (512 + 64) * 2 == 69_120
    assert rows["deepseek-v2"].weight_bytes is None and "236B" in rows["deepseek-v2"].note
    assert rows["llama-2-7b"].cache_gib == (2.0, 16.0, 64.0) and rows["llama-2-70b"].cache_gib == (1.25, 10.0, 40.0)
    assert rows["llama-2-7b"].beyond_context == (False, True, True)       # trained at 4096
    assert rows["deepseek-v2"].beyond_context == (False, False, False)    # 163,840
    # at 32K the 7B model's cache outgrows its weights; the 70B model's (GQA-8) stays under 8%
    assert rows["llama-2-7b"].cache_over_weights[1] > 1 and rows["llama-2-70b"].cache_over_weights[1] < 0.08
    assert [rows[k].kind for k in rows] == ["MHA", "GQA-8", "GQA-8", "MLA"]


def test_module_constants():
    assert sv.RATIO_T[-1] == 4096 and sv.PRESET_KEYS[0] == "llama-2-7b"


def test_scene_constructs_in_a_dry_run():
    from ._helpers import assert_scene_constructs
    assert_scene_constructs("MemorySavings")


def test_one_topic_section_with_the_outline_title():
    from ._helpers import assert_one_topic_section
    assert_one_topic_section("l05_savings.py", "L05.2")
