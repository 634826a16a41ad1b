"""L02.1 Why one head is not enough: the convex hull of the values, the two-token query, the lab's
head-count ablation, and Vaswani et al.'s Table 3 row (A) as a citation."""
from __future__ import annotations

from dataclasses import dataclass

import torch

import attn_ref as ar
from attn_ref.lab import load_result
from scenes.kit.data_builders import builder
from scenes.kit.references import VASWANI

from ._shared import (DESIGNED, HEAD_DIM, N_HEADS, SENTENCE, UNTRAINED, Mat, Vec, embed, head_block, internals,
                      lab_source, load_mha, running_mha, to_tuple, weights)

HULL_QUERY = "sat"
"""The query whose head-1 output moves inside the hull as its weights sharpen."""
SHARPNESS = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0)
"""Multipliers c of the scores (scale c/√d_h): c = 0 is uniform (the centroid), large c nearly one-hot."""
TWO_TOKEN_QUERY = "mats"
"""The query that needs two tokens: its previous token and the sentence's subject."""
PREVIOUS, SUBJECT = "on", "cat"
MARGIN = 7.0
"""Scaled score gap between a wanted key and the others in the designed heads (e^-7 ≈ 0.001)."""


def _hull(points: torch.Tensor) -> tuple[int, ...]:
    """Indices of the convex hull's vertices, counter-clockwise (Andrew's monotone chain)."""
    order = sorted(range(len(points)), key=lambda t: (float(points[t, 0]), float(points[t, 1])))

    def cross(o, a, b):
        return float((points[a, 0] - points[o, 0]) * (points[b, 1] - points[o, 1])
                     - (points[a, 1] - points[o, 1]) * (points[b, 0] - points[o, 0]))

    lower, upper = [], []
    for t in order:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], t) <= 0:
            lower.pop()
        lower.append(t)
    for t in reversed(order):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], t) <= 0:
            upper.pop()
        upper.append(t)
    return tuple(lower[:-1] + upper[:-1])


@dataclass(frozen=True)
class HullFrame:
    sharpness: float          # c in scale = c / √d_h
    weights: Vec              # the query's weights over the 5 keys (exact)
    shown_weights: Vec        # the same rounded to 2 decimals, adding up to 1.00 (ar.round_to_sum)
    output: Vec               # Σ_j w_j v_j, a point in the plane


@dataclass(frozen=True)
class ConvexHull:
    """Head 1 of the running example: its 2-D values and one query's output as the weights sharpen."""
    tokens: tuple[str, ...]
    query: str
    values: Mat               # (5, 2): v_j = x_j W_V^(1)
    hull: tuple[int, ...]     # indices of the values on the hull, counter-clockwise
    frames: tuple[HullFrame, ...]
    weights_origin: str       # shown with any grid: untrained


@builder("L02.1")
def convex_hull() -> ConvexHull:
    """One softmax row is one distribution: the output Σ_j a_j v_j stays inside the hull of the values."""
    t = internals(running_mha(), embed(SENTENCE)[None])
    q, k, v = (t[name][0, 0] for name in ("q", "k", "v"))  # head 1 (index 0), (5, d_h) each
    row = SENTENCE.index(HULL_QUERY)
    frames = []
    for c in SHARPNESS:
        out, p = ar.sdpa(q[None, None, row:row + 1], k[None, None], v[None, None], scale=c / HEAD_DIM ** 0.5,
                         return_weights=True)
        w = p[0, 0, 0]
        frames.append(HullFrame(c, to_tuple(w), to_tuple(ar.round_to_sum(w, 2)), to_tuple(out[0, 0, 0])))
    return ConvexHull(SENTENCE, HULL_QUERY, to_tuple(v), _hull(v), tuple(frames), UNTRAINED)


def _designed_qk(x: torch.Tensor, query: int, targets: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """W_Q, W_K (d_model × d_h, 2 decimals) whose scores for ``query`` tie on ``targets`` and beat every
    other key by about MARGIN after the 1/√d_h scale: q = x_q W_Q = e_1, k_j = x_j W_K = (x_j · u, 0)."""
    s = -torch.ones(x.shape[0], dtype=torch.float64)
    s[targets] = 1.0
    rows, rhs = [x], [s]
    for t in targets[1:]:  # an exact tie between the wanted keys (a heavily weighted equation)
        rows.append(1e3 * (x[t] - x[targets[0]])[None])
        rhs.append(torch.zeros(1, dtype=torch.float64))
    u = torch.linalg.lstsq(torch.cat(rows), torch.cat(rhs)[:, None]).solution[:, 0]
    r = x @ u
    others = [j for j in range(x.shape[0]) if j not in targets]
    u = u * MARGIN * HEAD_DIM ** 0.5 / float(r[targets].min() - r[others].max())
    w_q = torch.zeros(x.shape[1], HEAD_DIM, dtype=torch.float64)
    w_q[:, 0] = x[query] / x[query].dot(x[query])
    w_k = torch.zeros_like(w_q)
    w_k[:, 0] = u
    return torch.round(w_q, decimals=2), torch.round(w_k, decimals=2)


@dataclass(frozen=True)
class TwoTokenQuery:
    """A query that needs two tokens: one head blurs them, two heads keep them apart."""
    tokens: tuple[str, ...]
    query: str
    wanted: tuple[str, str]               # (previous token, subject)
    one_head_weights: Vec                  # the single head's row: ≈ 0.5 / 0.5 on the two wanted tokens
    one_head_shown: Vec                    # rounded to add up to 1.00
    values: Mat                            # head 1's value plane, (5, 2)
    one_head_output: Vec                   # lands near the midpoint of the two wanted values
    midpoint: Vec                          # (v_prev + v_subject) / 2
    distance_to_midpoint: float
    distance_to_nearest_value: float       # the blur is none of the values
    head_weights: Mat                      # (2, 5): head 1 → previous token, head 2 → subject
    head_shown: Mat
    head_values: tuple[Mat, ...]           # each head's value plane, (2, 5, 2)
    head_outputs: Mat                      # (2, 2): each ≈ the wanted token's value in its plane
    concat: Vec                            # [head 1 | head 2], 4 numbers side by side
    output: Vec                            # concat · W_O = the module's forward output for the query
    forward_max_diff: float                # |concat · W_O − MultiHeadAttention.forward| (max)
    weights_origin: str                    # designed by hand, not trained


@builder("L02.1")
def two_token_query() -> TwoTokenQuery:
    """'mats' needs 'on' (previous token) and 'cat' (subject): one head splits 0.5/0.5 and lands between
    them; ``ar.MultiHeadAttention(4, 2)`` with designed W_Q, W_K puts ≈ 1.00 of each head on one token."""
    x = embed(SENTENCE)
    qi, prev, subj = (SENTENCE.index(t) for t in (TWO_TOKEN_QUERY, PREVIOUS, SUBJECT))
    w = weights()
    # one head: queries and keys need both tokens, values in head 1's plane
    w_q, w_k = _designed_qk(x, qi, [prev, subj])
    v1 = x @ head_block(w.w_v, 0)
    out1, p1 = ar.sdpa((x @ w_q)[None, None, qi:qi + 1], (x @ w_k)[None, None], v1[None, None],
                       return_weights=True)
    one_w, one_out = p1[0, 0, 0], out1[0, 0, 0]
    mid = (v1[prev] + v1[subj]) / 2
    # two heads: head 1 reads the previous token, head 2 the subject
    (q1, k1), (q2, k2) = _designed_qk(x, qi, [prev]), _designed_qk(x, qi, [subj])
    mha = load_mha(torch.cat([q1, q2], 1), torch.cat([k1, k2], 1), w.w_v, w.w_o, N_HEADS)
    t = internals(mha, x[None])
    fwd, v = t["output"], t["v"][0]                      # v: (H, 5, d_h)
    p = t["weights"][0, :, qi]                           # (H, 5)
    heads = torch.einsum("hj,hjd->hd", p, v)
    concat = heads.reshape(-1)
    out = concat @ w.w_o
    return TwoTokenQuery(
        SENTENCE, TWO_TOKEN_QUERY, (PREVIOUS, SUBJECT), to_tuple(one_w), to_tuple(ar.round_to_sum(one_w, 2)),
        to_tuple(v1), to_tuple(one_out), to_tuple(mid), float((one_out - mid).norm()),
        float((v1 - one_out).norm(dim=-1).min()), to_tuple(p), to_tuple(ar.round_to_sum(p, 2)), to_tuple(v),
        to_tuple(heads), to_tuple(concat), to_tuple(out), float((out - fwd[0, qi]).abs().max()), DESIGNED)


@dataclass(frozen=True)
class HeadCountRun:
    n_heads: int
    head_dim: int
    n_params: int
    accuracy: float               # two_keys: both values of the ordered pair right
    accuracy_shown: str
    control_accuracy: float       # repeated_key: the same question when one look suffices
    mass_first: Vec               # per head: mean attention mass on the first needed value token
    mass_second: Vec


@dataclass(frozen=True)
class HeadCount:
    """The lab's head-count ablation at equal parameters (results/experiments/head_count.json)."""
    d_model: int
    steps: int
    runs: tuple[HeadCountRun, ...]
    chance_one_value: float       # accuracy of a model that knows one of the two values (reference)
    source: str
    description: str


@builder("L02.1")
def head_count() -> HeadCount:
    """1, 2 and 4 heads, same parameter count: one head answers 0.134 of the two-key questions, 2 and 4 heads
    1.000 (read from the committed lab result)."""
    r = load_result("head_count")
    m = r["metrics"]
    runs = []
    for h in m["heads"]:
        two, rep = m["runs"]["two_keys"][str(h)], m["runs"]["repeated_key"][str(h)]
        runs.append(HeadCountRun(h, two["head_dim"], two["n_params"], two["accuracy"],
                                 f"{two['accuracy']:.3f}", rep["accuracy"], tuple(two["mass_first"]),
                                 tuple(two["mass_second"])))
    return HeadCount(r["config"]["model"]["d_model"], r["config"]["train"]["steps"], tuple(runs),
                     m["references"]["one_value_accuracy"], lab_source(r), r["description"])


@dataclass(frozen=True)
class CitedTable3:
    """Vaswani et al. 2017, Table 3 rows (A) and base: EN-DE newstest2013 dev, compute held constant."""
    heads: tuple[int, ...]
    d_k: tuple[int, ...]
    perplexity: Vec
    bleu: Vec
    base_heads: int
    quote: str
    mechanism_quote: str          # §3.2.2, why one head is not enough
    conditions: str
    cite: str
    single_head_gap: float        # best BLEU − h = 1 BLEU (the quote's "0.9 BLEU worse")


@builder("L02.1")
def vaswani_table3() -> CitedTable3:
    """A published figure, shown as a citation (never on the axes of our measurements)."""
    heads, bleu = (1, 4, 8, 16, 32), (24.9, 25.5, 25.8, 25.8, 25.4)
    return CitedTable3(
        heads, (512, 128, 64, 32, 16), (5.29, 5.00, 4.92, 4.91, 5.01), bleu, 8,
        "While single-head attention is 0.9 BLEU worse than the best setting, quality also drops off "
        "with too many heads.",
        "Multi-head attention allows the model to jointly attend to information from different representation "
        "subspaces at different positions. With a single attention head, averaging inhibits this.",
        "Table 3 rows (A) and base; EN-DE newstest2013 dev; d_model 512, the amount of computation constant",
        f"{VASWANI.cite}, arXiv:{VASWANI.arxiv}, Table 3", round(max(bleu) - bleu[0], 10))
