"""Shared inputs of Lecture 5: the running model (a seeded ``attn_ref.TinyDecoder`` in float64: 2 layers,
4 query heads, 2 KV heads, d_h = 8, vocabulary 64; untrained), the prompt and the generation seed, helpers
that run it (full forward, prefill + decode, chunked prefill, the K/V of every layer), and the benchmark
result files (the GPU set, benchmarks/results/gpu-nvidia-h200.json, and the CPU set) with their source
lines.

The model is untrained: its tokens are seeded draws, not language. What the lecture shows with it is
structural (identical outputs with and without the cache, which rows are reused, which masks are right),
and that holds for any weights.
"""
from __future__ import annotations

import json

import torch

import attn_ref as ar
from attn_ref.bench.results import RESULTS_DIR, source_line
from scenes.kit.data_builders import shared_input
from scenes.kit.tensors import as_tensor, gaussian, to_tuple  # noqa: F401  (re-exported to the topics)

Vec = tuple[float, ...]
Mat = tuple[Vec, ...]

MODEL = dict(vocab_size=64, d_model=32, n_layers=2, n_heads=4, n_kv_heads=2, d_ff=64, max_len=32, seed=5)
"""The running TinyDecoder: d_model 32, 2 layers, 4 query heads sharing 2 KV heads (GQA), d_h = 8."""
PROMPT: tuple[int, ...] = (3, 17, 42, 8, 25)
NEW_TOKENS = 3
GEN_SEED = 1
"""Seed of ``ar.generate``'s sampler (temperature 1): both runs, with and without the cache, use it."""
UNTRAINED = "untrained TinyDecoder (seeded weights): the tokens are draws, not language"
GPU_RESULT = "gpu-nvidia-h200.json"
CPU_RESULT = "cpu-amd-epyc.json"


@shared_input
def model() -> ar.TinyDecoder:
    """The running model in float64, eval mode (no dropout anywhere)."""
    return ar.TinyDecoder(ar.DecoderConfig(**MODEL)).double().eval()


def head_dim() -> int:
    return MODEL["d_model"] // MODEL["n_heads"]


def tokens(ids) -> torch.Tensor:
    """(1, n) LongTensor of token ids."""
    return torch.tensor([list(ids)], dtype=torch.long)


@torch.no_grad()
def full_logits(ids, m: ar.TinyDecoder | None = None, attn_mask=None) -> torch.Tensor:
    """Logits (n, V) of one causal forward over all of ``ids`` (no cache)."""
    m = m or model()
    return m(tokens(ids), attn_mask=attn_mask)[0]


@torch.no_grad()
def chunked_logits(ids, chunks, m: ar.TinyDecoder | None = None, alignment: str = "lower_right",
                   caches=None) -> torch.Tensor:
    """Logits (n, V) fed through the cache in chunks of the given sizes (prefill = one chunk of the prompt,
    decode = chunks of 1). ``alignment="upper_left"`` AND-s PyTorch's ``is_causal`` mask (query i sees keys
    j ≤ i) into every chunk: the bug of a cached step run with the wrong mask."""
    m = m or model()
    caches = m.new_caches(1) if caches is None else caches
    out, start = [], 0
    for size in chunks:
        past = len(caches[0])
        mask = None
        if alignment == "upper_left":
            mask = ar.causal_mask(size, past + size, "upper_left")[None, None]
        out.append(m(tokens(ids[start:start + size]), caches=caches, attn_mask=mask)[0])
        start += size
    if start != len(ids):
        raise ValueError(f"chunks {chunks} do not cover {len(ids)} tokens")
    return torch.cat(out)


@torch.no_grad()
def layer_kv(ids, m: ar.TinyDecoder | None = None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(K, V) of every layer, each (H_kv, n, d_h) after RoPE, from a forward over ``ids`` (its mha.forward trace)."""
    m = m or model()
    trace = ar.Trace()
    m(tokens(ids), trace=trace)
    return [(s["k"][0], s["v"][0]) for s in trace.of_kind("mha.forward")]


def max_abs(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max()) if a.numel() else 0.0


def bench_result(name: str) -> dict | None:
    """A committed benchmark result file (benchmarks/results/<name>), read as JSON; None when it is absent."""
    path = RESULTS_DIR / name
    return json.loads(path.read_text()) if path.exists() else None


def missing(name: str) -> str:
    return f"benchmarks/results/{name} is not committed: no measured numbers (none invented)"


def bench_source(result: dict, suite: str | None = None) -> str:
    """The source line under a measured figure (``attn_ref.bench.results.source_line``), the commit ``suite``
    was rerun at when the provenance records one (``later_commits``), and the command."""
    line = source_line(result)
    for suites, commit in (result["provenance"].get("later_commits") or {}).items():
        if suite and suite in suites.split(","):
            line += f" ({suite} rerun at attn_ref {commit[:8]})"
    return f"{line}; `{result['provenance']['command']}`"
