"""Lecture 2's companion notebook (``scripts/notebooks.py --lecture 02`` writes notebooks/02-*.ipynb).

The code cells are what a learner would write with ``attn_ref`` and torch: the same seeds, inputs and
calls as the data builders (``data/``), never an import of the scene package. ``$NAME`` placeholders
are filled with the data modules' own constants (``VALUES``), so a seed changed there changes the
notebook on regeneration. Lab and benchmark numbers are read from the committed JSON files, as a learner
would read them. ``checks`` name the builder field each printed number must equal; the tests
(tests/notebooks) execute the notebook and compare.
"""
from __future__ import annotations

from scenes.kit.notebook import NotebookSpec, TopicCells, helpers

from .data import _shared, head_dimension, parallel, projections, specialisation, why_heads
from .data.aggregation import TOKEN as AGGREGATION_TOKEN

_TABLE3 = why_heads.vaswani_table3()
_MAP_FIELDS = {"prev_token_head": "prev_token_head", "induction_head": "induction_head",  # stored map -> HeadMaps field
               "induction_head_other_period": "induction_other_period"}

VALUES = {
    "SENTENCE": _shared.SENTENCE, "VOCAB": _shared.VOCAB, "PAD": _shared.PAD, "D_MODEL": _shared.D_MODEL,
    "EMBED_SEED": _shared.EMBED_SEED, "N_HEADS": _shared.N_HEADS, "MHA_SEED": _shared.MHA_SEED,
    "MHA_STD": _shared.MHA_STD,
    "HULL_QUERY": why_heads.HULL_QUERY, "SHARPNESS": why_heads.SHARPNESS,
    "TWO_TOKEN_QUERY": why_heads.TWO_TOKEN_QUERY, "PREVIOUS": why_heads.PREVIOUS, "SUBJECT": why_heads.SUBJECT,
    "MARGIN": why_heads.MARGIN, "TABLE3_HEADS": _TABLE3.heads, "TABLE3_D_K": _TABLE3.d_k,
    "TABLE3_BLEU": _TABLE3.bleu,
    "DECODER_TOKENS": projections.DECODER_TOKENS,
    "CITED_CONFIGS": tuple((n, d, h, hd) for n, d, h, hd, _, _ in head_dimension._CITED),
    "COUNTER": head_dimension.COUNTER[:4], "FUSED_MAX_HEAD_DIM": head_dimension.FUSED_MAX_HEAD_DIM,
    "FLOP_SHAPE": head_dimension.FLOP_SHAPE, "FLOP_HEADS": head_dimension.FLOP_HEADS,
    "SCALE_SHAPE": head_dimension.SCALE_SHAPE,
    "EXPERIMENT": specialisation.EXPERIMENT,
    "TOKEN": AGGREGATION_TOKEN,
    "BATCH_SHAPE": parallel.BATCH_SHAPE, "HEAD_LOOP_SUITE": parallel.HEAD_LOOP_SUITE, "TP_SHAPE": parallel.TP_SHAPE,
}

INTRO = """
Every number in the video of this lecture is computed by `attn_ref`, the course's tested library of
attention implementations, or read from a committed result file of the course's lab (tiny models trained
on a CPU) and benchmarks. This notebook recomputes them with the same seeds, the same inputs and the same
calls, and reads the same result files, so you can check any number you saw on screen, then change the
sizes, the seeds or the number of heads and see what moves. It needs only `attn_ref` (`pip install .` in
the repository, which also holds the result files) and matplotlib, and runs top to bottom on a CPU in
well under a minute.

The running example is Lecture 1's sentence with the same embeddings, now read by H = 2 heads of width
d_h = 2 (d_model = 4). Its projections W_Q, W_K, W_V, W_O are seeded random numbers rounded to two
decimals: they are untrained, so their attention maps show the mechanics, not learned patterns. Learned
patterns come from the lab's trained models (L02.1's head-count ablation, L02.5's induction heads).

Numbers are printed as the screen shows them (two decimals; rows of weights rounded so that they add up
to 1.00, with `ar.round_to_sum`). The last line of each topic, `NUMBERS L02.k {...}`, prints its key
numbers at full precision: the repository's tests run this notebook and compare that line with the
values the video draws.
"""

SETUP = ("""
import itertools
import json
import math

import matplotlib.pyplot as plt
import torch
from torch import nn

import attn_ref as ar
from attn_ref.bench.results import RESULTS_DIR as BENCH_RESULTS_DIR  # benchmarks/results in the repository
from attn_ref.lab import result_path  # results/experiments/<name>.json in the repository
""" + helpers("report", "show", "heatmap", "load_lab", "lab_source", "gaussian"), """
# Lecture 1's sentence and embeddings (same seed, same vectors), width d_model = 4.
SENTENCE = ${SENTENCE}
VOCAB = ${VOCAB}
PAD = ${PAD}
D_MODEL = ${D_MODEL}
EMBED_SEED = ${EMBED_SEED}


embedding_table = gaussian((len(VOCAB), D_MODEL), EMBED_SEED)
embedding_table[VOCAB.index(PAD)] = 0.0  # the padding token is the zero vector


def embed(tokens):
    \"\"\"One row of the embedding table per token.\"\"\"
    return embedding_table[[VOCAB.index(t) for t in tokens]].clone()


X = embed(SENTENCE)
show("X, the embeddings of the sentence", X, SENTENCE)
""", """
# Lecture 2's running example: H = 2 heads of width d_h = d_model / H = 2.
N_HEADS = ${N_HEADS}
HEAD_DIM = D_MODEL // N_HEADS
MHA_SEED, MHA_STD = ${MHA_SEED}, ${MHA_STD}
# The papers' convention x W: W_Q, W_K, W_V are d_model x (H d_h), W_O is (H d_h) x d_model.
W_Q, W_K, W_V, W_O = gaussian((4, D_MODEL, D_MODEL), MHA_SEED, MHA_STD)


def load_mha(w_q, w_k, w_v, w_o, n_heads):
    \"\"\"ar.MultiHeadAttention (float64, no bias, no mask) holding x W matrices (nn.Linear stores W^T).\"\"\"
    mha = ar.MultiHeadAttention(w_q.shape[0], n_heads, causal=False).double()  # its default is a causal decoder
    with torch.no_grad():
        for lin, w in ((mha.q_proj, w_q), (mha.k_proj, w_k), (mha.v_proj, w_v), (mha.o_proj, w_o)):
            lin.weight.copy_(w.T)
    return mha


def head_block(w, h, rows=False):
    \"\"\"Head h's block: columns h d_h ... (h+1) d_h - 1 of W_Q, W_K, W_V, or those rows of W_O.\"\"\"
    sl = slice(h * HEAD_DIM, (h + 1) * HEAD_DIM)
    return w[sl] if rows else w[:, sl]


mha = load_mha(W_Q, W_K, W_V, W_O, N_HEADS)
for name, m in (("W_Q", W_Q), ("W_K", W_K), ("W_V", W_V), ("W_O", W_O)):
    show(name, m)
""")

# ----------------------------------------------------------------------------------------------------

L02_1 = TopicCells(
    topic="L02.1",
    explanation="""
One softmax row is one probability distribution: the weights are at least 0 and add up to 1, so a head's
output o = sum_j a_j v_j is a weighted average of the values and always lies inside their convex hull.
With d_h = 2 the values of head 1 are points in a plane, and we can watch one query's output move inside
the hull as its scores are multiplied by c = 0 (uniform weights: the centroid) up to c = 8 (nearly one
key). A query that needs two different tokens gets a blur: with its weight split 0.5/0.5 the output
lands on the midpoint of the two values, which is neither of them. Two heads can each put about 1.00 on
one token, and the concatenation keeps both results side by side. (The W_Q, W_K of that demonstration
are set by hand so that each head reads one token; nothing here is trained.)

The lab measures the same limit in trained models: 1-layer attention-only models of width 64 with 1, 2
or 4 heads and the same 32,000 parameters learn an ordered-pair recall task whose answer needs two tokens
kept apart. Finally the paper's own ablation, Vaswani et al. 2017, Table 3 rows (A), a cited result:
BLEU on EN-DE newstest2013 (dev) with the amount of computation held constant.
""",
    code=("""
HULL_QUERY, SHARPNESS = ${HULL_QUERY}, ${SHARPNESS}
with torch.no_grad():
    q1, k1, v1 = (X @ head_block(W, 0) for W in (W_Q, W_K, W_V))  # head 1: (5, d_h) each
row = SENTENCE.index(HULL_QUERY)


def convex_hull(points):
    \"\"\"Indices of the hull's vertices, counter-clockwise (Andrew's monotone chain).\"\"\"
    order = sorted(range(len(points)), key=lambda t: (points[t][0], points[t][1]))

    def cross(o, a, b):
        return ((points[a][0] - points[o][0]) * (points[b][1] - points[o][1])
                - (points[a][1] - points[o][1]) * (points[b][0] - points[o][0]))

    lower, upper = [], []
    for t in order:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], t) <= 0:
            lower.pop()
        lower.append(t)
    for t in reversed(order):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], t) <= 0:
            upper.pop()
        upper.append(t)
    return lower[:-1] + upper[:-1]


hull = convex_hull(v1.tolist())
hull_weights, hull_outputs = [], []
for c in SHARPNESS:  # the scale c / sqrt(d_h): c = 1 is the usual attention
    out, p = ar.sdpa(q1[None, None, row:row + 1], k1[None, None], v1[None, None], scale=c / HEAD_DIM ** 0.5,
                     return_weights=True)
    hull_weights.append(p[0, 0, 0])
    hull_outputs.append(out[0, 0, 0])
    print(f"c = {c:3}: weights {ar.round_to_sum(p[0, 0, 0]).tolist()}  output",
          [round(x, 2) for x in out[0, 0, 0].tolist()])
W_hull = torch.stack(hull_weights)
assert (W_hull >= 0).all() and torch.allclose(W_hull.sum(-1), torch.ones(len(SHARPNESS), dtype=torch.float64))

fig, ax = plt.subplots(figsize=(5, 5))
ring = hull + hull[:1]
ax.plot(v1[ring, 0].tolist(), v1[ring, 1].tolist(), "-", color="gray")
ax.scatter(v1[:, 0].tolist(), v1[:, 1].tolist())
for j, tok in enumerate(SENTENCE):
    ax.annotate(f"v({tok})", v1[j].tolist())
path = torch.stack(hull_outputs)
ax.plot(path[:, 0].tolist(), path[:, 1].tolist(), "o-", color="C1", label=f"output of '{HULL_QUERY}', c = 0 ... 8")
ax.legend()
ax.set_title("Head 1: the output stays inside the hull of the values")
plt.show()
""", """
TWO_TOKEN_QUERY, PREVIOUS, SUBJECT, MARGIN = ${TWO_TOKEN_QUERY}, ${PREVIOUS}, ${SUBJECT}, ${MARGIN}
qi, prev, subj = (SENTENCE.index(t) for t in (TWO_TOKEN_QUERY, PREVIOUS, SUBJECT))


def designed_qk(x, query, targets):
    \"\"\"W_Q, W_K (d_model x d_h, two decimals) whose scaled scores for `query` tie on `targets` and beat every
    other key by about MARGIN: q = x_query W_Q = (1, 0) and k_j = x_j W_K = (x_j . u, 0).\"\"\"
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


# One head that must read both 'on' and 'cat': its values are head 1's plane from above.
w_q, w_k = designed_qk(X, qi, [prev, subj])
one_out, one_p = ar.sdpa((X @ w_q)[None, None, qi:qi + 1], (X @ w_k)[None, None], v1[None, None],
                         return_weights=True)
one_w, one_out = one_p[0, 0, 0], one_out[0, 0, 0]
midpoint = (v1[prev] + v1[subj]) / 2
show(f"one head, weights of '{TWO_TOKEN_QUERY}'", ar.round_to_sum(one_w), [""], SENTENCE)
print("output", [round(x, 2) for x in one_out.tolist()], " midpoint of v(on), v(cat)",
      [round(x, 2) for x in midpoint.tolist()], f" nearest value {(v1 - one_out).norm(dim=-1).min():.2f} away")

# Two heads: head 1 reads the previous token, head 2 the subject; W_V and W_O are the running example's.
(wq1, wk1), (wq2, wk2) = designed_qk(X, qi, [prev]), designed_qk(X, qi, [subj])
mha2 = load_mha(torch.cat([wq1, wq2], 1), torch.cat([wk1, wk2], 1), W_V, W_O, N_HEADS)
with torch.no_grad():
    fwd, p2 = mha2(X[None], return_weights=True)
v2 = (X @ W_V).view(len(SENTENCE), N_HEADS, HEAD_DIM).transpose(0, 1)  # (H, 5, d_h): each head's values
p_q = p2[0, :, qi]                                                     # (H, 5): the query's row per head
head_outputs = torch.einsum("hj,hjd->hd", p_q, v2)
concat = head_outputs.reshape(-1)          # [head 1 | head 2]
two_out = concat @ W_O
show(f"two heads, weights of '{TWO_TOKEN_QUERY}'", ar.round_to_sum(p_q), ["head 1", "head 2"], SENTENCE)
show("concat [h_1 | h_2]", concat)
print("largest difference of concat W_O from the module's forward:", (two_out - fwd[0, qi]).abs().max().item())
""", """
# The lab's head-count ablation (trained models, equal parameters).
hc = load_lab("head_count")
m = hc["metrics"]
head_runs = [(m["runs"]["two_keys"][str(h)], m["runs"]["repeated_key"][str(h)]) for h in m["heads"]]
print(f"{'heads':>6} {'d_h':>4} {'params':>7} {'two keys':>9} {'one key':>8}")
for two, rep in head_runs:
    print(f"{two['n_heads']:>6} {two['head_dim']:>4} {two['n_params']:>7} {two['accuracy']:>9.3f} "
          f"{rep['accuracy']:>8.3f}")
print("a model that knows one of the two values:", m["references"]["one_value_accuracy"])
print(lab_source(hc))

# Vaswani et al. 2017, Table 3 rows (A): cited, not measured here.
TABLE3_HEADS, TABLE3_D_K, TABLE3_BLEU = ${TABLE3_HEADS}, ${TABLE3_D_K}, ${TABLE3_BLEU}
single_head_gap = round(max(TABLE3_BLEU) - TABLE3_BLEU[0], 10)
fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3))
a.bar([str(h) for h in m["heads"]], [two["accuracy"] for two, _ in head_runs])
a.set_xlabel("heads (d_model 64, 32,000 parameters)")
a.set_title("lab: ordered-pair recall accuracy")
b.bar([f"{h}\\n(d_k {d})" for h, d in zip(TABLE3_HEADS, TABLE3_D_K)], TABLE3_BLEU)
b.set_ylim(24, 26.2)
b.set_xlabel("heads (d_model 512)")
b.set_title("cited: Vaswani et al. 2017, Table 3 (A), BLEU")
plt.show()
print(f"single head: {single_head_gap} BLEU below the best setting")

report("L02.1", hull_values=v1, hull=hull, sharpness=list(SHARPNESS), hull_weights=W_hull,
       hull_weights_shown=ar.round_to_sum(W_hull), hull_outputs=path,
       one_head_weights=one_w, one_head_shown=ar.round_to_sum(one_w), one_head_output=one_out, midpoint=midpoint,
       distance_to_midpoint=(one_out - midpoint).norm().item(),
       distance_to_nearest_value=(v1 - one_out).norm(dim=-1).min().item(),
       head_weights=p_q, head_shown=ar.round_to_sum(p_q), head_values=v2, head_outputs=head_outputs,
       concat=concat, output=two_out, forward_max_diff=(two_out - fwd[0, qi]).abs().max().item(),
       lab_heads=[two["n_heads"] for two, _ in head_runs], lab_head_dim=[two["head_dim"] for two, _ in head_runs],
       lab_params=[two["n_params"] for two, _ in head_runs], lab_accuracy=[two["accuracy"] for two, _ in head_runs],
       lab_accuracy_shown=[f"{two['accuracy']:.3f}" for two, _ in head_runs],
       lab_control=[rep["accuracy"] for _, rep in head_runs],
       lab_mass_first=[two["mass_first"] for two, _ in head_runs],
       lab_mass_second=[two["mass_second"] for two, _ in head_runs],
       lab_chance=m["references"]["one_value_accuracy"], lab_d_model=hc["config"]["model"]["d_model"],
       lab_steps=hc["config"]["train"]["steps"], lab_source=lab_source(hc), single_head_gap=single_head_gap)
"""),
    try_this="""
# Try this: ask one head for three tokens ('the', 'cat', 'on'). Where does its output land?
w_q3, w_k3 = designed_qk(X, qi, [0, subj, prev])
_, p3 = ar.sdpa((X @ w_q3)[None, None, qi:qi + 1], (X @ w_k3)[None, None], v1[None, None], return_weights=True)
print(ar.round_to_sum(p3[0, 0, 0]).tolist(), (p3[0, 0, 0] @ v1).tolist(), v1[[0, subj, prev]].mean(0).tolist())
""",
    checks={
        "hull_values": "convex_hull.values", "hull": "convex_hull.hull", "sharpness": "convex_hull.frames.*.sharpness",
        "hull_weights": "convex_hull.frames.*.weights", "hull_weights_shown": "convex_hull.frames.*.shown_weights",
        "hull_outputs": "convex_hull.frames.*.output",
        "one_head_weights": "two_token_query.one_head_weights", "one_head_shown": "two_token_query.one_head_shown",
        "one_head_output": "two_token_query.one_head_output", "midpoint": "two_token_query.midpoint",
        "distance_to_midpoint": "two_token_query.distance_to_midpoint",
        "distance_to_nearest_value": "two_token_query.distance_to_nearest_value",
        "head_weights": "two_token_query.head_weights", "head_shown": "two_token_query.head_shown",
        "head_values": "two_token_query.head_values", "head_outputs": "two_token_query.head_outputs",
        "concat": "two_token_query.concat", "output": "two_token_query.output",
        "forward_max_diff": "two_token_query.forward_max_diff",
        "lab_heads": "head_count.runs.*.n_heads", "lab_head_dim": "head_count.runs.*.head_dim",
        "lab_params": "head_count.runs.*.n_params", "lab_accuracy": "head_count.runs.*.accuracy",
        "lab_accuracy_shown": "head_count.runs.*.accuracy_shown", "lab_control": "head_count.runs.*.control_accuracy",
        "lab_mass_first": "head_count.runs.*.mass_first", "lab_mass_second": "head_count.runs.*.mass_second",
        "lab_chance": "head_count.chance_one_value", "lab_d_model": "head_count.d_model",
        "lab_steps": "head_count.steps", "lab_source": "head_count.source",
        "single_head_gap": "vaswani_table3.single_head_gap",
    },
)

L02_2 = TopicCells(
    topic="L02.2",
    explanation="""
Multi-head attention has four matrices: W_Q, W_K, W_V of shape d_model x (H d_h) and W_O of shape
(H d_h) x d_model. Head h owns a block of d_h columns of W_Q, W_K, W_V and the matching block of d_h rows
of W_O. Every block has all d_model rows: each head reads the whole embedding, and the "split" happens
on the projection's output, never on the input vector. With d_h = d_model / H the four matrices hold
4 d_model^2 parameters (plus 4 d_model with biases) whatever H is: `ar.attention_params` for three
published models, then the same widths with one head.

The storage convention, once: papers write x W with W of shape (in, out); `nn.Linear` stores its weight as
(out, in) and computes x W^T; `torch.nn.MultiheadAttention` packs W_Q^T, W_K^T, W_V^T into one
`in_proj_weight` of shape (3 d_model, d_model), in that order. Careful with its masks too: a True in
its boolean `attn_mask` means "masked", the opposite of `ar.sdpa`, where True means "may attend".
""",
    code=("""
MODELS = ((ar.TRANSFORMER_BASE, False), (ar.GPT2_SMALL, True), (ar.LLAMA2_7B, False))  # (config, bias)
counts = []
for cfg, bias in MODELS:
    d, h = cfg.d_model, cfg.n_heads
    hd = d // h
    qkv = d * h * hd + (h * hd if bias else 0)   # W_Q (and W_K, W_V), bias included
    o = h * hd * d + (d if bias else 0)           # W_O
    total = ar.attention_params(d, h, bias=bias)
    assert total == 3 * qkv + o
    counts.append(dict(name=cfg.name, d_model=d, n_heads=h, head_dim=cfg.head_dim, bias=bias,
                       per_matrix=[qkv, qkv, qkv, o],
                       params=total, shown=f"{total:,}", one_head=ar.attention_params(d, 1, bias=bias)))
    print(f"{cfg.name:17s} d_model {d:5d}, {h:2d} heads of {cfg.head_dim:3d}, bias {bias!s:5}: {total:>12,} "
          f"parameters per layer; with one head: {counts[-1]['one_head']:,}")
""", """
# The running example's matrices cut into per-head blocks.
blocks = {name: [head_block(W, h, rows=name == "W_O") for h in range(N_HEADS)]
          for name, W in (("W_Q", W_Q), ("W_K", W_K), ("W_V", W_V), ("W_O", W_O))}
for h in range(N_HEADS):
    show(f"W_Q^({h + 1}): all {D_MODEL} rows, columns {h * HEAD_DIM}..{(h + 1) * HEAD_DIM - 1}", blocks["W_Q"][h])
    show(f"W_O^({h + 1}): rows {h * HEAD_DIM}..{(h + 1) * HEAD_DIM - 1}", blocks["W_O"][h])
""", """
# nn.Linear stores (out, in); nn.MultiheadAttention packs q, k, v into one in_proj_weight.
wq1 = head_block(W_Q, 0)
lin = nn.Linear(D_MODEL, HEAD_DIM, bias=False).double()
torch_mha = nn.MultiheadAttention(D_MODEL, N_HEADS, bias=False, batch_first=True).double()
with torch.no_grad():
    lin.weight.copy_(wq1.T)
    linear_diff = (X @ wq1 - lin(X)).abs().max().item()
    torch_mha.in_proj_weight.copy_(torch.cat([W_Q.T, W_K.T, W_V.T]))
    torch_mha.out_proj.weight.copy_(W_O.T)
    in_proj_rows = [(r * D_MODEL, (r + 1) * D_MODEL) for r in range(3)]
    slice_diff = [(torch_mha.in_proj_weight[a:b].T - W).abs().max().item()
                  for (a, b), W in zip(in_proj_rows, (W_Q, W_K, W_V))]
    theirs, _ = torch_mha(X[None], X[None], X[None], need_weights=False)
    ours = mha(X[None])
    # The same boolean mask (True in column 1) in both libraries:
    blocked = torch.zeros(len(SENTENCE), len(SENTENCE), dtype=torch.bool)
    blocked[:, 1] = True
    _, p_torch = torch_mha(X[None], X[None], X[None], attn_mask=blocked, need_weights=True)
    _, p_ours = ar.sdpa(X[None, None], X[None, None], X[None, None], attn_mask=blocked, return_weights=True)
torch_true = "masked" if bool((p_torch[0, :, 1] == 0).all()) else "may attend"
sdpa_true = "may attend" if bool((p_ours[0, 0, :, 1] > 0).all() and (p_ours[0, 0, :, 0] == 0).all()) else "masked"
print(f"W_Q^(1) in the paper: {tuple(wq1.shape)}; nn.Linear's weight: {tuple(lin.weight.shape)}; "
      f"|x W - nn.Linear(x)| = {linear_diff}")
print(f"in_proj_weight {tuple(torch_mha.in_proj_weight.shape)}, rows of q, k, v: {in_proj_rows}, "
      f"slices vs W_Q, W_K, W_V: {slice_diff}")
print(f"torch's module vs ar.MultiHeadAttention, same weights: {(theirs - ours).abs().max().item():.1e}")
print(f"boolean mask True means: '{torch_true}' in nn.MultiheadAttention, '{sdpa_true}' in ar.sdpa")

report("L02.2", names=[c["name"] for c in counts], d_model=[c["d_model"] for c in counts],
       n_heads=[c["n_heads"] for c in counts], head_dim=[c["head_dim"] for c in counts],
       bias=[c["bias"] for c in counts], per_matrix=[c["per_matrix"] for c in counts],
       params=[c["params"] for c in counts], params_shown=[c["shown"] for c in counts],
       params_one_head=[c["one_head"] for c in counts],
       w_q=W_Q, w_k=W_K, w_v=W_V, w_o=W_O, q_blocks=blocks["W_Q"], k_blocks=blocks["W_K"],
       v_blocks=blocks["W_V"], o_blocks=blocks["W_O"], block_shape=list(blocks["W_Q"][0].shape),
       paper_shape=list(wq1.shape), linear_weight_shape=list(lin.weight.shape), linear_max_diff=linear_diff,
       in_proj_shape=list(torch_mha.in_proj_weight.shape), in_proj_rows=in_proj_rows, slice_max_diff=slice_diff,
       torch_vs_ours_max_diff=(theirs - ours).abs().max().item(), torch_bool_true_means=torch_true,
       sdpa_bool_true_means=sdpa_true)
""",),
    try_this="""
# Try this: grouped-query attention shares K and V between heads. How many parameters does Llama-2-70B's
# attention layer have with 8 KV heads instead of 64?
cfg = ar.LLAMA2_70B
print(f"{ar.attention_params(cfg.d_model, cfg.n_heads):,} vs {ar.attention_params(cfg.d_model, cfg.n_heads, 8):,}")
""",
    checks={
        "names": "parameter_counts.models.*.name", "d_model": "parameter_counts.models.*.d_model",
        "n_heads": "parameter_counts.models.*.n_heads", "head_dim": "parameter_counts.models.*.head_dim",
        "bias": "parameter_counts.models.*.bias", "per_matrix": "parameter_counts.models.*.per_matrix",
        "params": "parameter_counts.models.*.params", "params_shown": "parameter_counts.models.*.params_shown",
        "params_one_head": "parameter_counts.models.*.params_one_head",
        "w_q": "head_slices.w_q", "w_k": "head_slices.w_k", "w_v": "head_slices.w_v", "w_o": "head_slices.w_o",
        "q_blocks": "head_slices.q_blocks", "k_blocks": "head_slices.k_blocks", "v_blocks": "head_slices.v_blocks",
        "o_blocks": "head_slices.o_blocks", "block_shape": "head_slices.block_shape",
        "paper_shape": "storage_convention.paper_shape",
        "linear_weight_shape": "storage_convention.linear_weight_shape",
        "linear_max_diff": "storage_convention.linear_max_diff", "in_proj_shape": "storage_convention.in_proj_shape",
        "in_proj_rows": "storage_convention.in_proj_rows", "slice_max_diff": "storage_convention.slice_max_diff",
        "torch_vs_ours_max_diff": "storage_convention.torch_vs_ours_max_diff",
        "torch_bool_true_means": "storage_convention.torch_bool_true_means",
        "sdpa_bool_true_means": "storage_convention.sdpa_bool_true_means",
    },
)

L02_3 = TopicCells(
    topic="L02.3",
    explanation="""
All heads are projected at once: Q = X W_Q has shape (L, H d_h), each row holding token t's d_h numbers
for head 1, then for head 2. To give every head its own (L, d_h) matrix, view the buffer as (B, L, H, d_h)
and swap the token and head axes: (B, H, L, d_h). Head h's slice then equals X W_Q^(h). The tempting
`view(B, H, L, d_h)` without the transpose reads the same buffer in the wrong order: a "head" then holds
pieces of different tokens and of both real heads, and the attention computed from it is wrong (the
grids below come from the untrained running example, so only their difference matters).

Cross-attention in one call: queries from 3 decoder tokens, keys and values from the 5-token sentence
(`forward(x, context=c)`); each head's grid is 3 x 5, rectangular.
""",
    code=("""
B, L = 1, len(SENTENCE)
x = X[None]                                              # (B, L, d_model)
with torch.no_grad():
    q, k, v = x @ W_Q, x @ W_K, x @ W_V                  # (B, L, H d_h)
    right = q.view(B, L, N_HEADS, HEAD_DIM).transpose(1, 2)   # (B, H, L, d_h)
    block_diff = max((right[0, h] - X @ head_block(W_Q, h)).abs().max().item() for h in range(N_HEADS))
    wrong = [t.view(B, N_HEADS, L, HEAD_DIM) for t in (q, k, v)]  # no transpose
    out_w, p_w = ar.sdpa(*wrong, return_weights=True)
    out_wrong = out_w.transpose(1, 2).reshape(B, L, D_MODEL) @ W_O
    out, p = mha(x, return_weights=True)
show("Q = X W_Q", q[0], SENTENCE)
print("head h's slice of the transposed view vs X W_Q^(h):", block_diff)

# Which (token, head, dim) each number of the buffer is: view an index buffer the same two ways.
memory_order = [f"t{t} h{h} d{d}" for t, h, d in itertools.product(range(L), range(N_HEADS), range(HEAD_DIM))]
index = torch.arange(L * N_HEADS * HEAD_DIM)
wrong_index = index.view(N_HEADS, L, HEAD_DIM)
wrong_tokens = [["+".join(dict.fromkeys(SENTENCE[int(f) // (N_HEADS * HEAD_DIM)] for f in row)) for row in head]
                for head in wrong_index]
mixes = any(len({(int(f) // HEAD_DIM) % N_HEADS for f in head.flatten()}) > 1 for head in wrong_index)
for h in range(N_HEADS):
    print(f"wrong 'head' {h + 1}: rows hold", wrong_tokens[h])
print("a wrong 'head' mixes both real heads:", mixes)
print(f"largest difference from ar.MultiHeadAttention: weights {(p_w - p).abs().max():.2f}, "
      f"output {(out_wrong - out).abs().max():.2f}")

fig, axes = plt.subplots(1, 4, figsize=(18, 4.5))
for h in range(N_HEADS):
    heatmap(axes[h], p[0, h], SENTENCE, SENTENCE, f"head {h + 1} (view + transpose)")
    heatmap(axes[2 + h], p_w[0, h], wrong_tokens[h], wrong_tokens[h], f"'head' {h + 1} (view only): rows mix tokens")
plt.tight_layout()
plt.show()
""", """
DECODER_TOKENS = ${DECODER_TOKENS}
with torch.no_grad():
    cross_out, cross_p = mha(embed(DECODER_TOKENS)[None], context=X[None], return_weights=True)
fig, axes = plt.subplots(1, N_HEADS, figsize=(10, 3))
for h in range(N_HEADS):
    heatmap(axes[h], cross_p[0, h], DECODER_TOKENS, SENTENCE, f"cross-attention, head {h + 1}")
plt.tight_layout()
plt.show()
print("grid", tuple(cross_p.shape[-2:]), " output", tuple(cross_out.shape[1:]))

report("L02.3", q=q[0], memory_order=memory_order, heads=right[0], head_equals_block_max_diff=block_diff,
       wrong_heads=wrong[0][0], wrong_head_tokens=wrong_tokens, wrong_head_mixes_heads=mixes, weights=p[0],
       wrong_weights=p_w[0], output_max_diff=(out_wrong - out).abs().max().item(),
       weights_max_diff=(p_w - p).abs().max().item(), cross_weights=cross_p[0],
       cross_shown=ar.round_to_sum(cross_p[0]), grid_shape=list(cross_p.shape[-2:]),
       output_shape=list(cross_out.shape[1:]))
"""),
    try_this="""
# Try this: reshape(B, H, L, d_h) is no fix: it reads the buffer in the same order as view.
print(torch.equal(q.reshape(B, N_HEADS, L, HEAD_DIM), wrong[0]),
      torch.equal(q.view(B, L, N_HEADS, HEAD_DIM).permute(0, 2, 1, 3), right))
""",
    checks={
        "q": "split_heads.q", "memory_order": "split_heads.memory_order", "heads": "split_heads.heads",
        "head_equals_block_max_diff": "split_heads.head_equals_block_max_diff",
        "wrong_heads": "split_heads.wrong_heads", "wrong_head_tokens": "split_heads.wrong_head_tokens",
        "wrong_head_mixes_heads": "split_heads.wrong_head_mixes_heads", "weights": "split_heads.weights",
        "wrong_weights": "split_heads.wrong_weights", "output_max_diff": "split_heads.output_max_diff",
        "weights_max_diff": "split_heads.weights_max_diff", "cross_weights": "cross_attention.weights",
        "cross_shown": "cross_attention.shown_weights", "grid_shape": "cross_attention.grid_shape",
        "output_shape": "cross_attention.output_shape",
    },
)

L02_4 = TopicCells(
    topic="L02.4",
    explanation="""
The head width is d_h = d_model / H: 64 in the original Transformer and GPT-2, 128 in GPT-3 and Llama-2.
It need not tile d_model: Gemma 2 2B has 8 heads of 256 on a width of 2304, so its W_Q is 2304 x 2048.
Fused kernels are built for these sizes (FlashAttention-2's forward supports head dimensions up to 256).

At fixed d_model, more heads cost nothing extra: attention's core takes 4 b H n^2 d_h FLOPs
(`ar.attention_flops`), and H d_h = d_model, so the count is 4 b n^2 d_model for every H; the parameter
count does not move either. What changes is each head's width, and the scale must use it: 1/sqrt(d_h),
not 1/sqrt(d_model). Measured on one head of Transformer base (d_h 64, d_model 512), random q and k:
the wrong scale shrinks the scores sqrt(H) = 2.8 times and the softmax flattens toward uniform.
""",
    code=("""
presets = [(c.name, c.d_model, c.n_heads, c.head_dim)
           for c in (ar.TRANSFORMER_BASE, ar.GPT2_SMALL, ar.LLAMA2_7B, ar.LLAMA2_70B)]
# (name, d_model, heads, head_dim) of models without a preset, from their papers
CITED_CONFIGS = ${CITED_CONFIGS}
ORDER = ("Transformer base", "Transformer big", "GPT-2 small", "GPT-3 175B", "Llama-2-7B", "Llama-2-70B")
table = sorted(presets + list(CITED_CONFIGS), key=lambda r: ORDER.index(r[0]))
COUNTER = ${COUNTER}
FUSED_MAX_HEAD_DIM = ${FUSED_MAX_HEAD_DIM}
rows = [dict(name=n, d_model=d, heads=h, head_dim=hd, ratio=d / h, tiles=h * hd == d, q_proj=[d, h * hd])
        for n, d, h, hd in [*table, COUNTER]]
for r in rows:
    print(f"{r['name']:17s} {r['d_model']:6d} / {r['heads']:3d} = {r['ratio']:6.1f}   head_dim {r['head_dim']:4d}  "
          f"W_Q {r['q_proj'][0]} x {r['q_proj'][1]}" + ("" if r["tiles"] else "   <- heads do not tile d_model"))
print("largest head_dim FlashAttention-2's forward supports:", FUSED_MAX_HEAD_DIM)
""", """
FLOP_SHAPE, FLOP_HEADS = ${FLOP_SHAPE}, ${FLOP_HEADS}
b, n, d = FLOP_SHAPE["batch"], FLOP_SHAPE["n"], FLOP_SHAPE["d_model"]
flop_dims = [d // h for h in FLOP_HEADS]
flops = [ar.attention_flops(b, h, n, n, hd) for h, hd in zip(FLOP_HEADS, flop_dims)]
flop_params = [ar.attention_params(d, h) for h in FLOP_HEADS]
for h, hd, f, p in zip(FLOP_HEADS, flop_dims, flops, flop_params):
    print(f"H = {h:2d}, d_h = {hd:3d}: {f:,} FLOPs, {p:,} parameters")
closed_form = 4 * b * n * n * d
print(f"4 b n^2 d_model = {closed_form:,}")
""", """
SCALE_SHAPE = ${SCALE_SHAPE}
d, H, n, seed = (SCALE_SHAPE[key] for key in ("d_model", "n_heads", "n", "seed"))
hd = d // H
g = torch.Generator().manual_seed(seed)
q, k, v = (torch.randn(1, 1, n, hd, generator=g, dtype=torch.float64) for _ in range(3))
scale_rows, top5 = [], []
for label, width in (("1/sqrt(d_h)", hd), ("1/sqrt(d_model)", d)):
    scale = width ** -0.5
    _, p = ar.sdpa(q, k, v, scale=scale, return_weights=True)
    s = ar.attention_scores(q, k, scale=scale)
    entropy = -(p * p.clamp_min(1e-300).log()).sum(-1)
    scale_rows.append(dict(label=label, scale=scale, std=s.std().item(), max_weight=p.max(-1).values.mean().item(),
                           entropy=entropy.mean().item()))
    top5.append(p[0, 0, 0].sort(descending=True).values[:5])
    print(f"{label:16s} scale {scale:.4f}: score std {scale_rows[-1]['std']:.2f}, mean largest weight "
          f"{scale_rows[-1]['max_weight']:.3f}, mean entropy {scale_rows[-1]['entropy']:.2f} nats")
print(f"uniform: weight {1 / n:.4f}, entropy {math.log(n):.2f} nats;  "
      f"std ratio {scale_rows[0]['std'] / scale_rows[1]['std']:.3f}")

plt.figure(figsize=(5, 3))
for i, (r, t) in enumerate(zip(scale_rows, top5)):
    plt.bar([rank + 0.4 * i - 0.2 for rank in range(1, 6)], t.tolist(), width=0.4, label=r["label"])
plt.xlabel("rank")
plt.axhline(1 / n, color="gray", ls=":", label="uniform")
plt.title("Query 0's five largest weights")
plt.legend()
plt.show()

report("L02.4", names=[r["name"] for r in rows[:-1]], d_model=[r["d_model"] for r in rows[:-1]],
       heads=[r["heads"] for r in rows[:-1]], head_dim=[r["head_dim"] for r in rows[:-1]],
       ratio=[r["ratio"] for r in rows[:-1]], tiles=[r["tiles"] for r in rows[:-1]],
       q_proj_shape=[r["q_proj"] for r in rows[:-1]], counter_name=rows[-1]["name"],
       counter_ratio=rows[-1]["ratio"], counter_tiles=rows[-1]["tiles"], counter_q_proj_shape=rows[-1]["q_proj"],
       fused_max_head_dim=FUSED_MAX_HEAD_DIM,
       flop_heads=list(FLOP_HEADS), flop_head_dims=flop_dims, flops=flops, flop_params=flop_params,
       closed_form=closed_form, flops_shown=f"{flops[0]:,}",
       scales=[r["scale"] for r in scale_rows], score_std=[r["std"] for r in scale_rows],
       mean_max_weight=[r["max_weight"] for r in scale_rows], mean_entropy=[r["entropy"] for r in scale_rows],
       uniform_weight=1 / n, uniform_entropy=math.log(n), std_ratio=scale_rows[0]["std"] / scale_rows[1]["std"],
       max_weight_row=top5[0], max_weight_row_wrong=top5[1])
"""),
    try_this="""
# Try this: a causal mask halves the FLOP count (by the FlashAttention convention). Is it still the same for every H?
print([ar.attention_flops(1, h, 1024, 1024, 512 // h, causal=True) for h in (1, 8, 32)])
""",
    checks={
        "names": "head_dims.rows.*.name", "d_model": "head_dims.rows.*.d_model", "heads": "head_dims.rows.*.n_heads",
        "head_dim": "head_dims.rows.*.head_dim", "ratio": "head_dims.rows.*.ratio", "tiles": "head_dims.rows.*.tiles",
        "q_proj_shape": "head_dims.rows.*.q_proj_shape", "counter_name": "head_dims.counter_example.name",
        "counter_ratio": "head_dims.counter_example.ratio", "counter_tiles": "head_dims.counter_example.tiles",
        "counter_q_proj_shape": "head_dims.counter_example.q_proj_shape",
        "fused_max_head_dim": "head_dims.fused_max_head_dim",
        "flop_heads": "flop_invariance.heads", "flop_head_dims": "flop_invariance.head_dims",
        "flops": "flop_invariance.flops", "flop_params": "flop_invariance.params",
        "closed_form": "flop_invariance.closed_form", "flops_shown": "flop_invariance.flops_shown",
        "scales": "scale_sharpness.rows.*.scale", "score_std": "scale_sharpness.rows.*.score_std",
        "mean_max_weight": "scale_sharpness.rows.*.mean_max_weight",
        "mean_entropy": "scale_sharpness.rows.*.mean_entropy", "uniform_weight": "scale_sharpness.uniform_weight",
        "uniform_entropy": "scale_sharpness.uniform_entropy", "std_ratio": "scale_sharpness.std_ratio",
        "max_weight_row": "scale_sharpness.max_weight_row",
        "max_weight_row_wrong": "scale_sharpness.max_weight_row_wrong",
    },
)

L02_5 = TopicCells(
    topic="L02.5",
    explanation="""
Specialised heads are learned, not designed, so this topic uses trained weights only: the lab's 2-layer
attention-only model (4 heads a layer, RoPE) trained on repeated random token sequences. Two scores per
head, from its attention map A (rows are queries, 0-based positions): the previous-token score, the mean
of A[i, i-1], and the induction score, the mean of A[i, i-P+1] over the second copy of a sequence of
period P (the head attends to the token that followed the earlier occurrence of the current token). The
result file holds the scores averaged over 256 evaluation sequences; we recompute one sample's scores
from the stored maps of the clearest heads: a previous-token head in layer 0 (a bright sub-diagonal) and
an induction head in layer 1 (a stripe at offset P - 1).

Three cautions. A constant-period probe cannot tell content matching from a fixed positional offset, so
the lab scores the same head with the wrong period P - 1 (the control) and across periods and offsets.
Attention weights are not an explanation of a prediction. And maps from untrained weights (like the
running example's) show no specialisation at all. The training log also shows the phase change: the best
induction score jumps within a few logged steps.
""",
    code=("""
hs = load_lab(${EXPERIMENT})
hm = hs["metrics"]
prev_grid, ind_grid, control_grid = (torch.tensor(hm[key], dtype=torch.float64)
                                     for key in ("prev_token_score", "induction_score", "induction_control_score"))
n_layers, n_heads = prev_grid.shape


def best(grid):
    \"\"\"(layer, head, score) of the largest score.\"\"\"
    i = int(grid.argmax())
    return [i // n_heads, i % n_heads, grid.flatten()[i].item()]


fig, axes = plt.subplots(1, 3, figsize=(12, 2.8))
for ax, grid, title in zip(axes, (prev_grid, ind_grid, control_grid),
                           ("previous-token score", "induction score", "control (wrong period)")):
    ax.imshow(grid, cmap="viridis", vmin=0, vmax=1)
    for (i, j), s in zip(itertools.product(range(n_layers), range(n_heads)), grid.flatten().tolist()):
        ax.text(j, i, f"{s:.2f}", ha="center", va="center", color="w" if s < 0.5 else "k")
    ax.set_xlabel("head")
    ax.set_ylabel("layer")
    ax.set_title(title)
plt.show()
print("best previous-token head (layer, head, score):", best(prev_grid), " best induction head:", best(ind_grid))
print(lab_source(hs))
""", """
def repeat(tokens):
    \"\"\"(period P, start a) of a repeated sequence: the smallest P, then the smallest a, with
    tokens[i] == tokens[i - P] for every i >= a + P.\"\"\"
    L = len(tokens)
    for p in range(1, L // 2 + 1):
        for a in range(0, L - 2 * p + 1):
            if tokens[a + p:] == tokens[a:L - p]:
                return p, a


def prev_token_score(A):
    return A.diagonal(offset=-1).mean().item()       # mean A[i, i-1]


def induction_score(A, period, start):
    i = torch.arange(start + period, start + 2 * period)   # the second copy
    return A[i, i - period + 1].mean().item()              # mean A[i, i-P+1]


map_names = ("prev_token_head", "induction_head", "induction_head_other_period")
samples = {}
fig, axes = plt.subplots(1, 3, figsize=(15, 5))
for ax, name in zip(axes, map_names):
    mp = hs["maps"][name]
    A = torch.tensor(mp["values"], dtype=torch.float64)
    period, start = repeat(mp["tokens"])
    samples[name] = dict(period=period, start=start, prev=prev_token_score(A), ind=induction_score(A, period, start))
    ax.imshow(A, cmap="viridis", vmin=0, vmax=1)
    ax.set_title(f"{name}\\nperiod {period}, start {start}", fontsize=10)
    ax.set_xlabel("key position")
    ax.set_ylabel("query position")
    print(f"{name:28s} period {period:2d}, start {start}: previous-token {samples[name]['prev']:.3f}, "
          f"induction {samples[name]['ind']:.3f}")
plt.tight_layout()
plt.show()
""", """
# The phase change: recompute the best induction score per logged step from the score curve.
pc = hm["phase_change"]
curve = [(h["step"], max(max(row) for row in h["induction"])) for h in hm["score_curve"]]
step = next(s for s, b in curve if b >= pc["threshold"])
k = [s for s, _ in curve].index(step)
first_at = sorted((float(t), next(s for s, b in curve if b >= float(t))) for t in pc["first_step_at_or_above"])
print(f"best induction score {curve[k - 1][1]:.2f} at step {curve[k - 1][0]}, {curve[k][1]:.2f} at step {step}; "
      f"first steps at or above each level: {first_at}")
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot([s for s, _ in curve], [b for _, b in curve], label="best induction score")
ax.axvline(step, color="gray", ls=":")
ax2 = ax.twinx()
ax2.plot([s for s, _ in hm["loss_curve"]], [l for _, l in hm["loss_curve"]], color="C1", label="training loss")
ax.set_xlabel("step")
ax.set_ylabel("best induction score", color="C0")
ax2.set_ylabel("training loss", color="C1")
ax.set_title("The phase change")
plt.show()

# The positional control: the best induction head per period and per offset, beside the wrong-period score.
bp, bo = hm["induction_by_period"], hm["induction_by_offset"]
for label, d, key in (("period", bp, "period"), ("offset", bo, "offset")):
    print(f"{label:7s}", d[key])
    print("  score", [round(s, 2) for s in d["induction"]])
    print("  ctrl ", [round(s, 2) for s in d["control"]])

report("L02.5", prev_token=prev_grid, induction=ind_grid, induction_control=control_grid,
       best_prev_token=best(prev_grid), best_induction=best(ind_grid),
       repeated_token_accuracy=hm["repeated_token_accuracy"], n_params=hm["n_params"], grid_source=lab_source(hs),
       **{f"{name}_{key}": value for name in map_names for key, value in samples[name].items()},
       phase_threshold=pc["threshold"], phase_step=step, previous_logged_step=curve[k - 1][0],
       best_before=curve[k - 1][1], best_at=curve[k][1], first_step_at=first_at, induction_curve=curve,
       loss_curve=hm["loss_curve"], total_steps=hs["config"]["train"]["steps"],
       control_layer=bp["layer"], control_head=bp["head"], periods_probed=bp["period"], by_period=bp["induction"],
       by_period_control=bp["control"], offsets=bo["offset"], by_offset=bo["induction"],
       by_offset_control=bo["control"])
"""),
    try_this="""
# Try this: score the previous-token head's map as if it were an induction head, and vice versa.
for name in ("prev_token_head", "induction_head"):
    A = torch.tensor(hs["maps"][name]["values"], dtype=torch.float64)
    p, a = repeat(hs["maps"][name]["tokens"])
    print(name, round(prev_token_score(A), 3), round(induction_score(A, p, a), 3))
""",
    checks={
        "prev_token": "score_grid.prev_token", "induction": "score_grid.induction",
        "induction_control": "score_grid.induction_control", "best_prev_token": "score_grid.best_prev_token",
        "best_induction": "score_grid.best_induction", "repeated_token_accuracy": "score_grid.repeated_token_accuracy",
        "n_params": "score_grid.n_params", "grid_source": "score_grid.source",
        **{f"{name}_{key}": f"head_maps.{_MAP_FIELDS[name]}.{field}" for name in _MAP_FIELDS
           for key, field in (("period", "period"), ("start", "start"), ("prev", "sample_prev_score"),
                              ("ind", "sample_induction_score"))},
        "phase_threshold": "phase_change.threshold", "phase_step": "phase_change.step",
        "previous_logged_step": "phase_change.previous_logged_step", "best_before": "phase_change.best_before",
        "best_at": "phase_change.best_at", "first_step_at": "phase_change.first_step_at",
        "induction_curve": "phase_change.induction_curve", "loss_curve": "phase_change.loss_curve",
        "total_steps": "phase_change.total_steps",
        "control_layer": "positional_control.layer", "control_head": "positional_control.head",
        "periods_probed": "positional_control.periods",
        "by_period": "positional_control.by_period", "by_period_control": "positional_control.by_period_control",
        "offsets": "positional_control.offsets", "by_offset": "positional_control.by_offset",
        "by_offset_control": "positional_control.by_offset_control",
    },
    unchecked={"cited_redundancy": "published results (Voita et al. 2019: 38 of 48 encoder heads pruned for "
                                   "-0.15 BLEU on WMT EN-RU; Michel et al. 2019), quoted on screen, not measured"},
)

L02_6 = TopicCells(
    topic="L02.6",
    explanation="""
The layer's output is the concatenation [h_1 ... h_H] times W_O. Cut W_O into the heads' row blocks
W_O^(i) and the product becomes a sum: [h_1 ... h_H] W_O = sum_i h_i W_O^(i). So each head writes its own
vector of width d_model into the residual stream, and the writes add up; concatenate-then-project and
project-each-then-sum are one computation, and both equal `MultiHeadAttention.forward`. (The
concatenation order must match W_O's row blocks.)
""",
    code=("""
with torch.no_grad():
    fwd, p = mha(X[None], return_weights=True)
v_heads = (X @ W_V).view(len(SENTENCE), N_HEADS, HEAD_DIM).transpose(0, 1)  # (H, L, d_h)
heads = p[0] @ v_heads                                                      # (H, L, d_h): h_i per token
concat = heads.transpose(0, 1).reshape(len(SENTENCE), N_HEADS * HEAD_DIM)     # (L, H d_h)
o_blocks = [head_block(W_O, h, rows=True) for h in range(N_HEADS)]
writes = torch.stack([heads[h] @ o_blocks[h] for h in range(N_HEADS)])     # (H, L, d_model)
total, projected = writes.sum(0), concat @ W_O
show("concat [h_1 | h_2]", concat, SENTENCE)
for h in range(N_HEADS):
    show(f"head {h + 1}'s write h_{h + 1} W_O^({h + 1})", writes[h], SENTENCE)
show("sum of the writes", total, SENTENCE)
print("|sum - concat W_O| =", (total - projected).abs().max().item(), "  |sum - forward| =",
      (total - fwd[0]).abs().max().item())

TOKEN = ${TOKEN}
t = SENTENCE.index(TOKEN)
residual = X[t]
after = residual + total[t]
plt.figure(figsize=(4, 4))
start = residual[:2].clone()
for h in range(N_HEADS):  # the first two of the four coordinates, arrows end to end
    plt.arrow(*start.tolist(), *writes[h, t, :2].tolist(), color=f"C{h}", head_width=0.05, length_includes_head=True,
              label=f"head {h + 1}")
    start = start + writes[h, t, :2]
plt.scatter(*residual[:2].tolist(), color="k", label=f"x({TOKEN})")
plt.scatter(*after[:2].tolist(), color="C3", label="x + sum of writes")
plt.legend()
plt.title(f"'{TOKEN}': each head adds its write (dims 0, 1)")
plt.show()

report("L02.6", head_outputs=heads, concat=concat, o_blocks=o_blocks, writes=writes, concat_project=projected,
       sum_of_writes=total, forward=fwd[0], max_diff_sum_vs_concat=(total - projected).abs().max().item(),
       max_diff_sum_vs_forward=(total - fwd[0]).abs().max().item(), residual=residual, token_writes=writes[:, t],
       residual_after=after)
""",),
    try_this="""
# Try this: concatenate the heads in the wrong order (head 2 first). Does it still equal forward?
swapped = torch.cat([heads[1], heads[0]], dim=-1) @ W_O
print((swapped - fwd[0]).abs().max().item())
""",
    checks={
        "head_outputs": "head_writes.head_outputs", "concat": "head_writes.concat", "o_blocks": "head_writes.o_blocks",
        "writes": "head_writes.writes", "concat_project": "head_writes.concat_project",
        "sum_of_writes": "head_writes.sum_of_writes", "forward": "head_writes.forward",
        "max_diff_sum_vs_concat": "head_writes.max_diff_sum_vs_concat",
        "max_diff_sum_vs_forward": "head_writes.max_diff_sum_vs_forward", "residual": "head_writes.residual",
        "token_writes": "head_writes.token_writes", "residual_after": "head_writes.residual_after",
    },
)

L02_7 = TopicCells(
    topic="L02.7",
    explanation="""
Heads never talk to each other inside the layer, so they are simply a batch axis: one call over
(B, H, n, d_h) solves B H independent attention problems, with the same result and the same FLOP count as
a Python loop over the heads. The wall time differs. The course's benchmark (suite "heads", committed in
benchmarks/results) timed both at a fixed width H d_h = 512, on a 2-core CPU in float32: with torch's fused
SDPA the single batched call is 1.0 to 1.5 times faster than the loop; with the reference `ar.sdpa`, which
materialises the whole (B, H, n, n) score tensor, the batched call is slower from 4 heads on (likely because
that tensor no longer fits the cache). Batching pays when the kernel is built for it.

The same independence splits a layer across devices (Megatron-LM's tensor parallelism): each device holds
its heads' columns of W_Q, W_K, W_V and the matching rows of W_O, computes its heads alone, and by L02.6's
identity its output is a partial sum; one all-reduce adds the partials into the full output.
""",
    code=("""
BATCH_SHAPE = ${BATCH_SHAPE}
B, H, n, hd, seed = (BATCH_SHAPE[key] for key in ("batch", "n_heads", "n", "head_dim", "seed"))
g = torch.Generator().manual_seed(seed)
q, k, v = (torch.randn(B, H, n, hd, generator=g, dtype=torch.float64) for _ in range(3))
batched = ar.sdpa(q, k, v)  # one call over all B H problems
loop = torch.stack([torch.stack([ar.sdpa(q[b, h][None, None], k[b, h][None, None], v[b, h][None, None])[0, 0]
                                 for h in range(H)]) for b in range(B)])
problems, batched_shape = B * H, [B * H, n, hd]  # what one batched matmul sees
flops_batched = ar.attention_flops(B, H, n, n, hd)
flops_loop = B * H * ar.attention_flops(1, 1, n, n, hd)
print(f"{B * H} problems of ({n} x {hd}); |batched - loop| = {(batched - loop).abs().max().item()}; "
      f"FLOPs {flops_batched:,} batched, {flops_loop:,} looped")
""", """
# The benchmark's records (suite "heads"): every committed result file, as the video reads them.
HEAD_LOOP_SUITE = ${HEAD_LOOP_SUITE}


def bench_source(result):
    \"\"\"The provenance line under a measured figure.\"\"\"
    p = result["provenance"]
    where = p.get("gpu_model") or p.get("cpu_model")
    extra = f", {p['cpu_count']} CPUs" if p.get("device") == "cpu" and p.get("cpu_count") else ""
    return (f"Measured: {where}{extra}, {result.get('dtype', '')}, torch {p['torch']}, "
            f"{p['date'][:10]}, attn_ref {str(p.get('commit') or '')[:8]}").replace(", ,", ",")


timing, sources = [], []
for path in sorted(BENCH_RESULTS_DIR.glob("*.json")):
    result = json.loads(path.read_text())
    recs = [r for r in result.get("records", []) if r.get("suite") == HEAD_LOOP_SUITE and "skipped" not in r]
    if recs:
        sources.append(bench_source(result))
        timing += [[path.name, r["method"], r["heads"], r["seqlen"], r["head_dim"], float(r["time_ms"])] for r in recs]
for src in sources:
    print(src)
ms = {(f, m, h, s): t for f, m, h, s, _, t in timing}
print(f"{'file':36s} {'kernel':16s} {'H':>3s} {'d_h':>4s} {'n':>5s} {'batched':>10s} {'loop':>10s} "
      f"{'loop/batched':>13s}")
for f, m, h, s, d, t in timing:
    if m.startswith("batched"):
        impl = m[len("batched"):]
        t_loop = ms.get((f, "head_loop" + impl, h, s), float("nan"))
        print(f"{f:36s} {impl:16s} {h:3d} {d:4d} {s:5d} {t:7.3f} ms {t_loop:7.3f} ms {t_loop / t:13.2f}")

plt.figure(figsize=(6, 3.5))
for f, impl, s in sorted({(f, m[len("batched"):], s) for f, m, _, s, _, _ in timing if m.startswith("batched")}):
    heads_axis = sorted({h for f2, m, h, s2, _, _ in timing if (f2, m, s2) == (f, "batched" + impl, s)})
    ratio = [ms[(f, "head_loop" + impl, h, s)] / ms[(f, "batched" + impl, h, s)] for h in heads_axis]
    plt.semilogx(heads_axis, ratio, "o-", label=f"{impl} n={s}", base=2)
plt.axhline(1, color="gray", ls=":")
plt.xlabel("heads H (H d_h = 512)")
plt.ylabel("loop time / batched time")
plt.legend(fontsize=8)
plt.title("Above 1: one batched call beats the loop")
plt.show()
""", """
TP_SHAPE = ${TP_SHAPE}
d, H, D, L, seed = (TP_SHAPE[key] for key in ("d_model", "n_heads", "devices", "seq", "seed"))
hd, per = d // H, H // D
w = gaussian((4, d, d), seed, 0.5)          # W_Q, W_K, W_V, W_O
x = gaussian((1, L, d), seed + 1)
full_mha = load_mha(*w, H)
cols = [(dev * per * hd, (dev + 1) * per * hd) for dev in range(D)]
partials = []
with torch.no_grad():
    for a, b in cols:  # one device: its heads' columns of W_Q, W_K, W_V and rows of W_O
        q, k, v = ((x @ m[:, a:b]).view(1, L, per, hd).transpose(1, 2) for m in w[:3])
        heads = ar.sdpa(q, k, v)                                  # (1, per, L, d_h)
        partials.append(heads.transpose(1, 2).reshape(L, b - a) @ w[3][a:b])
    full = full_mha(x)[0]
all_reduce = torch.stack(partials).sum(0)
for dev, (a, b) in enumerate(cols):
    print(f"device {dev}: heads {list(range(dev * per, (dev + 1) * per))}, columns {a}..{b - 1} of W_Q, W_K, W_V, "
          f"rows {a}..{b - 1} of W_O, {4 * d * d // D} parameters")
print(f"|all-reduce - one device| = {(all_reduce - full).abs().max().item():.1e}; "
      f"{L * d} numbers summed per forward")

report("L02.7", problems=problems, batched_shape=batched_shape,
       max_diff_loop_vs_batched=(batched - loop).abs().max().item(),
       flops_batched=flops_batched, flops_loop=flops_loop, timing_available=bool(timing), timing=timing,
       timing_sources=sources, heads_per_device=[list(range(dev * per, (dev + 1) * per)) for dev in range(D)],
       qkv_columns=cols, params_per_device=4 * d * d // D, params_total=ar.attention_params(d, H),
       partials=partials, all_reduce=all_reduce, full=full, tp_max_diff=(all_reduce - full).abs().max().item(),
       all_reduce_numbers=L * d)
"""),
    try_this="""
# Try this: time torch's fused SDPA here, one call over 8 heads against a loop (your CPU, float32).
from torch.nn.functional import scaled_dot_product_attention as fused_sdpa
from torch.utils import benchmark

q_b, k_b, v_b = (torch.randn(1, 8, 512, 64) for _ in range(3))
calls = {"batched": lambda: fused_sdpa(q_b, k_b, v_b),
         "loop": lambda: [fused_sdpa(q_b[:, h:h + 1], k_b[:, h:h + 1], v_b[:, h:h + 1]) for h in range(8)]}
for label, call in calls.items():
    t = benchmark.Timer("call()", globals={"call": call}).blocked_autorange(min_run_time=0.2)
    print(f"{label:8s} {t.median * 1e3:.2f} ms")
""",
    checks={
        "problems": "batched_heads.problems", "batched_shape": "batched_heads.batched_shape",
        "max_diff_loop_vs_batched": "batched_heads.max_diff_loop_vs_batched",
        "flops_batched": "batched_heads.flops_batched", "flops_loop": "batched_heads.flops_loop",
        "timing_available": "head_loop_timing.available", "timing": "head_loop_timing.rows",
        "timing_sources": "head_loop_timing.sources", "heads_per_device": "tensor_parallel.heads_per_device",
        "qkv_columns": "tensor_parallel.qkv_columns", "params_per_device": "tensor_parallel.params_per_device",
        "params_total": "tensor_parallel.params_total", "partials": "tensor_parallel.partials",
        "all_reduce": "tensor_parallel.all_reduce", "full": "tensor_parallel.full",
        "tp_max_diff": "tensor_parallel.max_diff", "all_reduce_numbers": "tensor_parallel.all_reduce_numbers",
    },
)

NOTEBOOK = NotebookSpec(intro=INTRO, setup=SETUP, values=VALUES, data_package="scenes.l02_multihead.data",
                        topics=(L02_1, L02_2, L02_3, L02_4, L02_5, L02_6, L02_7))
