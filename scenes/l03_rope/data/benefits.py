"""L03.4 Benefits over other positional approaches: the comparison table (each cell computed or counted
for the lab's model size), the lab's experiment 2 per scheme (needle retrieval at 1×/2×/4× the training
length and the loss by position; own tiny models), and ALiBi's cited 1.3B extrapolation result."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

import attn_ref as ar
from attn_ref.lab import load_result
from scenes.kit.data_builders import builder
from scenes.kit.references import PRESS

from ._shared import BASE, Mat, Vec, embed, gaussian, lab_source, projections, rotate, toeplitz_deviation

EXPERIMENT = "needle_haystack"
SCHEMES: tuple[str, ...] = ("rope", "rope_pi", "rope_yarn", "nope", "alibi", "sinusoidal", "learned")
LABELS: dict[str, str] = {"rope": "RoPE", "rope_pi": "RoPE + PI", "rope_yarn": "RoPE + YaRN", "nope": "NoPE",
                          "alibi": "ALiBi", "sinusoidal": "sinusoidal", "learned": "learned absolute"}
PLAN_SCHEMES: tuple[str, ...] = ("rope", "rope_pi", "rope_yarn", "nope", "alibi")
"""The five the plan names for the lab panel (the file also holds sinusoidal and learned)."""
LOSS_FROM = 16
"""The first scored position of the in-length mean loss (the first repeats of the filler come later)."""
TABLE_N = 8
TABLE_SEED = 36
T5_BUCKETS = 32


@dataclass(frozen=True)
class TableRow:
    scheme: str
    relative: bool                 # has positions and its grid for fixed content is Toeplitz
    has_positions: bool            # False for NoPE (only a causal mask leaks order)
    toeplitz_deviation: float
    extra_params: int              # for the lab model (d_model 64, 4 heads, 2 layers, 256 positions)
    bias_in_kernel: bool           # an (H, n, n) bias added to the scores inside attention
    cached_keys_valid: bool        # cached keys need no recomputation when tokens are appended
    accuracy_at_4x: float | None   # lab: needle accuracy at 256 tokens, trained at 64 (None: not in the lab)
    where: str                     # where the position enters


@dataclass(frozen=True)
class ComparisonTable:
    rows: tuple[TableRow, ...]
    columns: tuple[str, ...]
    model: str
    note: str
    source: str


def _grid(scheme: str) -> torch.Tensor:
    """(n, n) scores (or bias) of the same token at every position under ``scheme``."""
    x = embed(["dog"] * TABLE_N)
    w_q, w_k, _ = projections()
    d = x.shape[-1]
    if scheme in ("sinusoidal", "learned"):
        p = ar.sinusoidal_positions(TABLE_N, d) if scheme == "sinusoidal" else gaussian((TABLE_N, d), TABLE_SEED)
        x = x + p
        return (x @ w_q) @ (x @ w_k).T / math.sqrt(d)
    q, k = x @ w_q, x @ w_k
    if scheme == "rope":
        inv, _ = ar.rope_frequencies(d, BASE)
        pos = list(range(TABLE_N))
        return torch.stack([rotate(q[i], [i], inv)[0] for i in pos]) @ torch.stack(
            [rotate(k[j], [j], inv)[0] for j in pos]).T / math.sqrt(d)
    s = q @ k.T / math.sqrt(d)
    if scheme == "t5":
        return s + ar.t5_relative_bias(TABLE_N, TABLE_N, gaussian((T5_BUCKETS, 1), TABLE_SEED))[0]
    if scheme == "alibi":
        return s + ar.alibi_bias(1, TABLE_N, TABLE_N)[0]
    return s  # nope


@builder("L03.4")
def comparison_table() -> ComparisonTable:
    """Sinusoidal / learned absolute, T5 bias, ALiBi, RoPE, NoPE × the table's columns."""
    r = load_result(EXPERIMENT)
    cfg = r["config"]["model"]
    d_model, n_heads = cfg["d_model"], cfg["n_heads"]
    max_len = r["config"]["position_overrides"]["learned"]["max_len"]
    acc = {k: v["accuracy_by_length"][-1] for k, v in r["metrics"]["schemes"].items()}
    spec = (  # scheme, lab key, extra parameters, bias in kernel, where
        ("sinusoidal", "sinusoidal", 0, False, "added to the input embedding"),
        ("learned absolute", "learned", max_len * d_model, False, "added to the input embedding"),
        ("T5 bias", None, T5_BUCKETS * n_heads, True, "learned bias per bucket and head, added to the scores"),
        ("ALiBi", "alibi", 0, True, "fixed bias −m_h (i − j), added to the scores"),
        ("RoPE", "rope", 0, False, "rotates q and k after projection, per head"),
        ("NoPE", "nope", 0, False, "nowhere (the causal mask alone)"),
    )
    rows = []
    for name, key, params, bias, where in spec:
        grid_key = {"learned absolute": "learned", "T5 bias": "t5", "ALiBi": "alibi", "RoPE": "rope",
                    "NoPE": "nope"}.get(name, "sinusoidal")
        dev = toeplitz_deviation(_grid(grid_key))
        rows.append(TableRow(name, dev < 1e-12 and name != "NoPE", name != "NoPE", dev, params, bias, True,
                             acc[key] if key else None, where))
    return ComparisonTable(tuple(rows), ("relative?", "extra parameters", "bias matrix in the kernel?",
                                         "KV cache without recomputation?", "needle accuracy at 4× (lab)"),
                           f"lab model: d_model {d_model}, {n_heads} heads, {cfg['n_layers']} layers, "
                           f"{max_len} learned positions",
                           "T5 was not in the lab (None); T5 shares its 32 × H table across layers. Every scheme "
                           "keeps cached keys valid; a length-dependent scaling (dynamic NTK) does not (L03.5).",
                           lab_source(r))


@dataclass(frozen=True)
class SchemeResult:
    scheme: str
    label: str
    accuracy: Mat                      # (length, depth) needle accuracy
    accuracy_by_length: Vec            # at 1×, 2×, 4× the training length
    multi_accuracy_by_length: Vec      # 8 needles, 4 questions
    loss_by_position: tuple[float | None, ...]   # filler loss at positions 0 … 255 (None: not scored)
    mean_loss_inside: float            # positions LOSS_FROM … 63 (inside the training length)
    mean_loss_beyond: float            # positions 64 … 252
    n_params: int


@dataclass(frozen=True)
class LabResults:
    train_length: int
    lengths: tuple[int, ...]
    depths: Vec
    schemes: tuple[SchemeResult, ...]
    plan_schemes: tuple[str, ...]
    n_params: int
    longest_factor: float              # the longest needle length / the training length (4)
    loss_length: int                   # length of the loss-by-position sequences (256)
    loss_factor: float                 # PI's and YaRN's factor there: loss_length / train_length (4)
    inside_from: int                   # the in-length mean loss covers positions inside_from … train_length − 1
    caption: str
    source: str


def _mean(xs) -> float:
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs)


@builder("L03.4")
def lab_results() -> LabResults:
    """Lab experiment 2 per scheme: the same trained RoPE model evaluated plain, with PI and with YaRN."""
    r = load_result(EXPERIMENT)
    m = r["metrics"]
    train = m["train_length"]
    out = []
    for s in SCHEMES:
        v = m["schemes"][s]
        model = v["model"]
        lp = v["loss_by_position"]
        out.append(SchemeResult(s, LABELS[s], tuple(tuple(row) for row in v["accuracy"]),
                                tuple(v["accuracy_by_length"]),
                                tuple(m["multi_needle"]["schemes"][s]["accuracy_by_length"]), tuple(lp),
                                _mean(lp[LOSS_FROM:train]), _mean(lp[train:]), m["train"][model]["n_params"]))
    loss_length = r["config"]["eval"]["loss_length"]
    return LabResults(train, tuple(m["lengths"]), tuple(m["depths"]), tuple(out), PLAN_SCHEMES,
                      m["train"]["rope"]["n_params"], m["lengths"][-1] / train, loss_length, loss_length / train,
                      LOSS_FROM,
                      f"own tiny models (2 layers, d_model 64, {m['train']['rope']['n_params']:,} parameters), "
                      f"trained at {train} tokens; PI and YaRN: the RoPE model with factor length/{train}, "
                      "no fine-tuning", lab_source(r))


@dataclass(frozen=True)
class CitedAlibi:
    """Press et al. 2021: ALiBi's extrapolation result, quoted (measured in perplexity)."""
    params: str
    train_length: int
    eval_length: int
    quote: str
    faster: str
    less_memory: str
    caveat: str
    source: str


@builder("L03.4")
def cited_alibi() -> CitedAlibi:
    """The 1.3B model trained on 1024 tokens that matches a sinusoidal model trained on 2048."""
    return CitedAlibi("1.3B", 1024, 2048,
                      "a 1.3 billion parameter model trained on input sequences of length 1024 that "
                      "extrapolates to input sequences of length 2048, achieving the same perplexity as a "
                      "sinusoidal position embedding model trained on inputs of length 2048",
                      "11% faster", "11% less memory",
                      "perplexity, not retrieval: it does not show that far tokens are used",
                      PRESS.short(venue=False))
