"""L04.4 Key metrics for long context. Quality: per-position NLL and perplexity (lab experiment 2's
"loss by position": one forward of 256 tokens, no sliding window, averaged over 64 documents), retrieval
accuracy (the NIAH grid), RULER's effective length (cited threshold 85.6). Systems: TTFT, time per output
token, throughput, KV bytes per token and the largest batch at a context, each mapped to the bench suite or
``attn_ref`` function that measures or computes it. Pitfalls, computed: perplexity that stays flat while
retrieval fails, per-window vs per-token averaging, the label shift's trg_len − 1 valid tokens, a BOS token
inserted in the haystack."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

import attn_ref as ar
from scenes.kit.data_builders import builder
from scenes.kit.references import HSIEH

from ._shared import FP16, GPU_FILE, MODEL, Vec, bench, bench_source, lab, lab_source, records

SCHEMES: tuple[str, ...] = ("rope", "rope_pi", "rope_yarn", "nope", "alibi")
SCORED_FROM = 16
"""Positions before 16 are left out of the means: the repeating filler is not yet predictable there."""


def _mean(xs) -> float:
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs)


@dataclass(frozen=True)
class SchemeLoss:
    scheme: str
    loss_by_position: tuple[float | None, ...]   # mean NLL (nats) per position; None: not scored
    mean_inside: float                            # positions 16 … 63 (inside the training length)
    mean_2x: float                                # positions 64 … 127
    mean_beyond: float                            # positions 64 … 255
    ppl_inside: float                             # exp(mean NLL)
    ppl_2x: float
    ppl_beyond: float
    accuracy_by_length: Vec                       # needle accuracy at 64, 128, 256 (the same models)


@dataclass(frozen=True)
class LossByPosition:
    train_length: int
    loss_length: int
    n_documents: int
    schemes: tuple[SchemeLoss, ...]
    what: str
    source: str
    scored_from: int = SCORED_FROM                # first position in the means
    lengths: tuple[int, ...] = ()                 # the lengths of accuracy_by_length (64, 128, 256)


@builder("L04.4")
def loss_by_position() -> LossByPosition:
    """Lab experiment 2: the filler's next-token NLL at each position of a 256-token forward, averaged over
    64 documents, with the perplexity exp(mean NLL) inside and beyond the training length."""
    r = lab()
    m, e = r["metrics"], r["config"]["eval"]
    train = m["train_length"]
    out = []
    for s in SCHEMES:
        v = m["schemes"][s]
        lp = tuple(v["loss_by_position"])
        a, b, c = _mean(lp[SCORED_FROM:train]), _mean(lp[train:2 * train]), _mean(lp[train:])
        out.append(SchemeLoss(s, lp, a, b, c, math.exp(a), math.exp(b), math.exp(c), tuple(v["accuracy_by_length"])))
    return LossByPosition(train, e["loss_length"], e["n_loss"], tuple(out),
                          "ℓ(t) = mean over documents of −log p(x_t | x_<t) on filler → filler tokens; one forward of "
                          "the whole sequence, no sliding window", lab_source(r), SCORED_FROM, tuple(m["lengths"]))


@dataclass(frozen=True)
class FlatPerplexity:
    scheme: str
    ppl_inside: float
    ppl_2x: float
    ppl_change: float              # ppl_2x / ppl_inside − 1
    accuracy_inside: float
    accuracy_2x: float
    accuracy_4x: float
    ppl_4x_window: float           # positions 64 … 255
    note: str
    source: str


@builder("L04.4")
def flat_perplexity() -> FlatPerplexity:
    """Pitfall 1, measured: plain RoPE past its training length — the filler perplexity barely moves while
    needle retrieval drops (the filler is predictable from the last few tokens; the needle is not)."""
    lb = loss_by_position()
    s = next(x for x in lb.schemes if x.scheme == "rope")
    return FlatPerplexity("rope", s.ppl_inside, s.ppl_2x, s.ppl_2x / s.ppl_inside - 1, *s.accuracy_by_length,
                          s.ppl_beyond,
                          "local (filler) perplexity does not test long-range use: the same model's needle accuracy "
                          "falls with length", lb.source)


AVG_SEED = 44
AVG_TOKENS = 10
AVG_WINDOWS = (4, 4, 2)
"""Tokens per window of the averaging example: the last window is short, as at the end of a document."""


@dataclass(frozen=True)
class Averaging:
    nll: Vec                        # per token, from CrossEntropyLoss(reduction="none") on seeded logits
    windows: tuple[int, ...]
    window_means: Vec
    ppl_per_token: float            # exp(Σ nll / T): the definition
    ppl_per_window: float           # exp(mean of the window means): weights the short window up
    ppl_reference: float            # exp(F.cross_entropy(reduction="mean")) over all tokens


@builder("L04.4")
def averaging() -> Averaging:
    """Pitfall 2: averaging window means differs from averaging tokens when windows differ in length."""
    g = torch.Generator().manual_seed(AVG_SEED)
    logits = torch.randn(AVG_TOKENS, 8, generator=g, dtype=torch.float64)
    targets = torch.randint(0, 8, (AVG_TOKENS,), generator=g)
    nll = torch.nn.CrossEntropyLoss(reduction="none")(logits, targets)
    means, start = [], 0
    for w in AVG_WINDOWS:
        means.append(float(nll[start:start + w].mean()))
        start += w
    return Averaging(tuple(float(x) for x in nll), AVG_WINDOWS, tuple(means), math.exp(float(nll.mean())),
                     math.exp(sum(means) / len(means)),
                     math.exp(float(F.cross_entropy(logits, targets, reduction="mean"))))


@dataclass(frozen=True)
class LabelShift:
    trg_len: int
    valid_predictions: int          # logits[:-1] against labels[1:]
    nll_shifted: float              # mean NLL with the shift
    nll_unshifted: float            # the mistake: logits[t] scored against x_t itself
    note: str


SHIFT_LEN = 8
SHIFT_SEED = 45


@builder("L04.4")
def label_shift() -> LabelShift:
    """Pitfall 3: scoring a window of trg_len tokens gives trg_len − 1 predictions (the first token has no
    prefix); forgetting the shift scores each logit against its own input token."""
    g = torch.Generator().manual_seed(SHIFT_SEED)
    logits = torch.randn(SHIFT_LEN, 8, generator=g, dtype=torch.float64)
    tokens = torch.randint(0, 8, (SHIFT_LEN,), generator=g)
    shifted = torch.nn.CrossEntropyLoss(reduction="none")(logits[:-1], tokens[1:])
    unshifted = torch.nn.CrossEntropyLoss(reduction="none")(logits, tokens)
    return LabelShift(SHIFT_LEN, int(shifted.numel()), float(shifted.mean()), float(unshifted.mean()),
                      "HF's labels=input_ids shifts inside the model: a window of trg_len tokens adds trg_len − 1 "
                      "terms to the sum; weighting a window's mean loss by trg_len counts one token too many")


@dataclass(frozen=True)
class Pitfall:
    name: str
    what_goes_wrong: str
    shown_by: str                   # the builder or figure that shows it


@builder("L04.4")
def pitfalls() -> tuple[Pitfall, ...]:
    """The four pitfalls and what shows each."""
    return (
        Pitfall("sliding-window perplexity", "scoring with a stride-limited window never asks the model to use "
                "tokens beyond the window, so long-range failure is invisible", "flat_perplexity (lab, RoPE at 2×)"),
        Pitfall("per-window vs per-token averaging", "the mean of window means weights a short last window like a "
                "full one; perplexity is exp of the per-token mean", "averaging"),
        Pitfall("label shift", "a window of trg_len tokens has trg_len − 1 predictions", "label_shift"),
        Pitfall("BOS inside the haystack", "tokenising the needle or each chunk separately with add_special_tokens "
                "puts a BOS token mid-context: an extra attention sink the model never saw there in training",
                "described (not measured)"),
    )


@dataclass(frozen=True)
class SystemsMetric:
    name: str
    definition: str
    measured_by: str                # bench suite or attn_ref function
    example: str                    # one value from that source, with its conditions
    available: bool


@dataclass(frozen=True)
class SystemsMetrics:
    metrics: tuple[SystemsMetric, ...]
    source: str


@builder("L04.4")
def systems_metrics() -> SystemsMetrics:
    """TTFT, time per output token, throughput, KV bytes per token, max batch at a context: what each is and
    which suite (``benchmarks/results``) or ``attn_ref`` function supplies it here."""
    r = bench(GPU_FILE)
    pre = records(r, "prefill") if r else []
    dec = records(r, "decode") if r else []
    flash = [x for x in pre if x["method"] == "torch_sdpa[flash_attention]" and x["head_dim"] == 128
             and x["causal"] and x["seqlen"] == 16384]
    mha = [x for x in dec if x["method"] == "MHA" and x["context"] == 16384]
    per_token = MODEL.kv_bytes_per_token(FP16)
    budget = ar.kv_token_budget(ar.H100_SXM.memory_bytes, MODEL.n_params() * FP16, per_token)
    ex = []
    ex.append(SystemsMetric(
        "TTFT (time to first token)", "prefill latency of the whole prompt",
        "bench suite 'prefill' (the attention part only)",
        (f"causal flash attention, {flash[0]['heads']} heads × 128, n = 16,384: {flash[0]['time_ms']:.2f} ms per layer "
         f"per sequence") if flash else "no record", bool(flash)))
    ex.append(SystemsMetric(
        "time per output token", "one decode step", "bench suite 'decode' (attention over the cache, one layer)",
        (f"MHA, batch {mha[0]['batch']}, 32 heads × 128, context 16,384: {mha[0]['time_ms']:.3f} ms per layer")
        if mha else "no record", bool(mha)))
    ex.append(SystemsMetric(
        "throughput", "tokens generated per second over the batch", "bench suite 'decode' (tokens_per_s)",
        f"the same step: {mha[0]['tokens_per_s']:,.0f} tokens/s for that one layer" if mha else "no record",
        bool(mha)))
    ex.append(SystemsMetric(
        "KV bytes per token", "2 · layers · KV heads · d_h · bytes", "ar.kv_cache_bytes / ModelConfig",
        f"{MODEL.name}: {per_token:,} B (512 KiB)", True))
    ex.append(SystemsMetric(
        "max batch at a context", "⌊(memory − weights) / (KV per token · context)⌋", "ar.kv_token_budget",
        f"{MODEL.name} on an 80 GB H100: {budget:,} tokens → {budget // 4096} sequences of 4,096", True))
    return SystemsMetrics(tuple(ex), bench_source(r) if r else "")


@dataclass(frozen=True)
class EffectiveLength:
    threshold: float
    threshold_model: str
    threshold_length: int
    definition: str
    source: str


@builder("L04.4")
def effective_length() -> EffectiveLength:
    """RULER's effective context length (cited): the longest tested length whose score beats Llama-2-7B at 4K."""
    return EffectiveLength(85.6, "Llama-2-7B", 4096,
                           "the longest length at which a model's RULER average stays above the threshold",
                           HSIEH.short(venue=False))
