"""Lecture 5's shared inputs and helpers: the seeded model, the cached-chunk runner, the bench source line."""
from __future__ import annotations

import pytest
import torch

from scenes.l05_kv_cache import data as d
from scenes.l05_kv_cache.data import _shared as sh

from ._helpers import CFG, HD, raw_bench


def test_model_is_seeded_float64_and_in_eval_mode():
    m = d.model()
    assert not m.training and m.embed.weight.dtype == torch.float64
    assert m.blocks[0].attn.n_kv_heads == CFG["n_kv_heads"] and m.blocks[0].attn.head_dim == HD == 8
    w = m.embed.weight.clone()
    d.cache_clear()
    assert d.model() is not m and torch.equal(d.model().embed.weight, w)


def test_chunked_logits_equal_the_full_forward_and_refuse_bad_chunks():
    seq = (*d.PROMPT, 1, 2)
    full = sh.full_logits(seq)
    assert torch.allclose(sh.chunked_logits(seq, (2, 3, 1, 1)), full, atol=1e-12, rtol=0)
    assert not torch.allclose(sh.chunked_logits(seq, (2, 3, 1, 1), alignment="upper_left"), full, atol=1e-3)
    with pytest.raises(ValueError, match="do not cover"):
        sh.chunked_logits(seq, (2, 2))


def test_layer_kv_shapes():
    kv = sh.layer_kv(d.PROMPT)
    assert len(kv) == CFG["n_layers"] and kv[0][0].shape == (CFG["n_kv_heads"], len(d.PROMPT), HD)


def test_bench_source_names_the_machine_the_rerun_commit_and_the_command():
    r = raw_bench(sh.GPU_RESULT)
    line = sh.bench_source(r, "decode")
    assert "NVIDIA H200" in line and "float16" in line and r["provenance"]["command"] in line
    assert f"decode rerun at attn_ref {r['provenance']['later_commits']['decode'][:8]}" in line
    assert "rerun at attn_ref" not in sh.bench_source(r, "prefill")
