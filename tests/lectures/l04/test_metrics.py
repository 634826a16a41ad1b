"""L04.4 Key metrics: the per-position loss and perplexities against the file read with json, the averaging and
label-shift pitfalls recomputed by hand, the systems metrics against the benchmark file and closed forms."""
from __future__ import annotations

import math

import pytest
import torch

from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import context as eqc
from scenes.l04_context import data as d
from scenes.l04_context.data import metrics as mt

from ._helpers import (KV_PER_TOKEN, N_PARAMS, assert_one_topic_section, assert_scene_constructs, raw_bench,
                       raw_result, with_clauses)

RAW = raw_result()


def _mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs)


def test_loss_by_position_is_the_file():
    lb = d.loss_by_position()
    assert (lb.train_length, lb.loss_length, lb.n_documents) == (64, 256, 64)
    assert lb.scored_from == 16 and lb.lengths == tuple(RAW["metrics"]["lengths"]) == (64, 128, 256)
    for s in lb.schemes:
        raw = RAW["metrics"]["schemes"][s.scheme]
        lp = raw["loss_by_position"]
        assert s.loss_by_position == tuple(lp) and len(lp) == 256
        assert s.mean_inside == pytest.approx(_mean(lp[16:64]), abs=1e-12)
        assert s.mean_2x == pytest.approx(_mean(lp[64:128]), abs=1e-12)
        assert s.mean_beyond == pytest.approx(_mean(lp[64:]), abs=1e-12)
        assert s.ppl_inside == pytest.approx(math.exp(s.mean_inside))
        assert s.ppl_beyond == pytest.approx(math.exp(s.mean_beyond))
        assert s.accuracy_by_length == tuple(raw["accuracy_by_length"])


def test_flat_perplexity_while_retrieval_fails():
    f = d.flat_perplexity()
    lp = RAW["metrics"]["schemes"]["rope"]["loss_by_position"]
    assert f.ppl_inside == pytest.approx(math.exp(_mean(lp[16:64])))
    assert f.ppl_2x == pytest.approx(math.exp(_mean(lp[64:128])))
    assert abs(f.ppl_change) < 0.01                                          # perplexity moves < 1 % …
    assert (f.accuracy_inside, f.accuracy_2x, f.accuracy_4x) == (1.0, 0.91, 0.714)   # … retrieval does not


def test_averaging_by_hand():
    a = d.averaging()
    g = torch.Generator().manual_seed(mt.AVG_SEED)
    logits = torch.randn(mt.AVG_TOKENS, 8, generator=g, dtype=torch.float64)
    targets = torch.randint(0, 8, (mt.AVG_TOKENS,), generator=g)
    nll = [float(torch.logsumexp(logits[i], 0) - logits[i, targets[i]]) for i in range(mt.AVG_TOKENS)]  # −log softmax
    assert a.nll == pytest.approx(nll, abs=1e-12) and sum(a.windows) == len(nll)
    assert a.ppl_per_token == pytest.approx(math.exp(sum(nll) / len(nll)), rel=1e-12) == a.ppl_reference
    means, s = [], 0
    for w in a.windows:
        means.append(sum(nll[s:s + w]) / w)
        s += w
    assert a.window_means == pytest.approx(means) and a.ppl_per_window == pytest.approx(math.exp(sum(means) / 3))
    assert abs(a.ppl_per_window - a.ppl_per_token) > 0.5


def test_label_shift_by_hand():
    ls = d.label_shift()
    g = torch.Generator().manual_seed(mt.SHIFT_SEED)
    logits = torch.randn(mt.SHIFT_LEN, 8, generator=g, dtype=torch.float64)
    tokens = torch.randint(0, 8, (mt.SHIFT_LEN,), generator=g)
    lsm = torch.log_softmax(logits, -1)
    shifted = [-float(lsm[t, tokens[t + 1]]) for t in range(mt.SHIFT_LEN - 1)]
    unshifted = [-float(lsm[t, tokens[t]]) for t in range(mt.SHIFT_LEN)]
    assert ls.valid_predictions == ls.trg_len - 1 == len(shifted) == 7
    assert ls.nll_shifted == pytest.approx(sum(shifted) / 7) and ls.nll_unshifted == pytest.approx(sum(unshifted) / 8)


def test_pitfalls_and_effective_length():
    names = [p.name for p in d.pitfalls()]
    assert names == ["sliding-window perplexity", "per-window vs per-token averaging", "label shift",
                     "BOS inside the haystack"]
    e = d.effective_length()
    assert (e.threshold, e.threshold_model, e.threshold_length) == (85.6, "Llama-2-7B", 4096)
    assert "2404.06654" in e.source


def test_systems_metrics_against_the_file():
    gpu = raw_bench("gpu-nvidia-h200.json")
    s = {m.name: m for m in d.systems_metrics().metrics}
    assert all(m.available for m in s.values())
    pre = next(r for r in gpu["records"] if r["suite"] == "prefill" and r["method"] == "torch_sdpa[flash_attention]"
               and r["head_dim"] == 128 and r["causal"] and r["seqlen"] == 16384)
    assert f"{pre['time_ms']:.2f} ms" in s["TTFT (time to first token)"].example and pre["batch"] == 1
    dec = next(r for r in gpu["records"] if r["suite"] == "decode" and r["method"] == "MHA" and r["context"] == 16384)
    assert f"{dec['time_ms']:.3f} ms" in s["time per output token"].example
    assert f"{dec['tokens_per_s']:,.0f} tokens/s" in s["throughput"].example
    assert f"{KV_PER_TOKEN:,} B" in s["KV bytes per token"].example
    budget = (80 * 10 ** 9 - 2 * N_PARAMS) // KV_PER_TOKEN
    assert f"{budget:,} tokens" in s["max batch at a context"].example and f"{budget // 4096} sequences" in \
        s["max batch at a context"].example


def test_perplexity_equation_fails_when_wrong():
    ppl, per_pos = EQUATIONS["perplexity"].clauses
    s = eqc.sp.Sum(eqc.sp.log(eqc.p_tok[eqc.t_idx]), (eqc.t_idx, 1, eqc.T))
    with pytest.raises(EquationError):                                        # forgot the minus sign
        with_clauses("perplexity", Clause(ppl.lhs, eqc.sp.exp(s / eqc.T)), per_pos).check()
    with pytest.raises(EquationError):                                        # sum, not mean, over documents
        with_clauses("perplexity", ppl, Clause(per_pos.lhs, per_pos.rhs * eqc.D_docs)).check()


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs("LongContextMetrics")


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section("l04_metrics.py", "L04.4")
