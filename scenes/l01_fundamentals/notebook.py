"""Lecture 1's companion notebook (``scripts/notebooks.py --lecture 01`` writes notebooks/01-*.ipynb).

The code cells are what a learner would write with ``attn_ref`` and torch: the same seeds, inputs and
calls as the data builders (``data/``), never an import of the scene package. ``$NAME`` placeholders
are filled with the data modules' own constants (``VALUES``), so a seed changed there changes the
notebook on regeneration. ``checks`` name the builder field each printed number must equal; the tests
(tests/notebooks) execute the notebook and compare.
"""
from __future__ import annotations

from scenes.kit.notebook import NotebookSpec, TopicCells, helpers

from .data import _shared, direct_connections, evolution, masking, softmax_scaling
from .data.history import history

VALUES = {
    "SENTENCE": _shared.SENTENCE, "VOCAB": _shared.VOCAB, "PAD": _shared.PAD, "D_MODEL": _shared.D_MODEL,
    "EMBED_SEED": _shared.EMBED_SEED, "PROJ_STD": _shared.PROJ_STD, "PROJ_SEEDS": _shared.PROJ_SEED_SEARCH,
    "QUERY_TOKEN": _shared.QUERY_TOKEN, "KEY_TOKEN": _shared.KEY_TOKEN,
    "MILESTONES": tuple((m.year, m.name, m.authors) for m in history()),
    "RNN_SEED": evolution.RNN_SEED, "BAHDANAU_SEED": evolution.BAHDANAU_SEED,
    "LONG_SENTENCE": evolution.LONG_SENTENCE,
    "GRAD_SEEDS": direct_connections.GRAD_SEEDS, "GRAD_WIDTH": direct_connections.GRAD_WIDTH,
    "GRAD_MAX_DISTANCE": direct_connections.GRAD_MAX_DISTANCE,
    "TEMPERATURES": softmax_scaling.TEMPERATURES, "D_KS": softmax_scaling.D_KS,
    "VARIANCE_SAMPLES": softmax_scaling.VARIANCE_SAMPLES, "VARIANCE_SEED": softmax_scaling.VARIANCE_SEED,
    "SATURATION_SAMPLES": softmax_scaling.SATURATION_SAMPLES, "SATURATION_KEYS": softmax_scaling.SATURATION_KEYS,
    "SATURATION_SEED": softmax_scaling.SATURATION_SEED, "LARGE_SCORES": softmax_scaling.LARGE_SCORES,
    "PADDED_BATCH": masking.PADDED_BATCH, "N_NEW": masking.N_NEW,
}

INTRO = """
Every number in the video of this lecture is computed by `attn_ref`, the course's tested library of
attention implementations. This notebook recomputes them with the same seeds, the same inputs and
the same calls, so you can check any number you saw on screen, then change the sentence, the sizes or
the seed and see what moves. It needs only `attn_ref` (`pip install .` in the repository) and
matplotlib, and runs top to bottom on a CPU in well under a minute.

Numbers are printed as the screen shows them (two decimals; rows of weights rounded so that they add
up to 1.00, with `ar.round_to_sum`). The last line of each topic, `NUMBERS L01.k {...}`, prints its key
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
""" + helpers("report", "show", "heatmap", "gaussian"), """
# The running example: one sentence, a 13-word vocabulary, embeddings of width 4.
SENTENCE = ${SENTENCE}
VOCAB = ${VOCAB}
PAD = ${PAD}
D_MODEL = ${D_MODEL}  # d_model = d_k = d_v = 4, so the scale 1/sqrt(d_k) is 1/2
EMBED_SEED = ${EMBED_SEED}


embedding_table = gaussian((len(VOCAB), D_MODEL), EMBED_SEED)
embedding_table[VOCAB.index(PAD)] = 0.0  # the padding token is the zero vector


def embed(tokens):
    \"\"\"One row of the embedding table per token.\"\"\"
    return embedding_table[[VOCAB.index(t) for t in tokens]].clone()


X = embed(SENTENCE)
show("X, the embeddings of the sentence", X, SENTENCE)
""")

# ----------------------------------------------------------------------------------------------------

L01_1 = TopicCells(
    topic="L01.1",
    explanation="""
Seven papers take us from feed-forward networks to the Transformer. Each fixed one problem and left
another; the timeline's years and gaps are the numbers on screen.
""",
    code=("""
# (year, name, authors), oldest first
MILESTONES = ${MILESTONES}

for year, name, authors in MILESTONES:
    print(f"{year}  {name:34s} {authors}")
years = [year for year, _, _ in MILESTONES]
gaps = [later - earlier for earlier, later in itertools.pairwise(years)]
longest = max(range(len(gaps)), key=lambda k: gaps[k])
print(f"{years[0]} to {years[-1]}: {years[-1] - years[0]} years; longest gap {gaps[longest]} years, "
      f"after {MILESTONES[longest][1]}")

fig, ax = plt.subplots(figsize=(10, 3))
ax.plot(years, [0] * len(years), "o-")
for k, (year, name, _) in enumerate(MILESTONES):  # labels on four levels, so that neighbours do not collide
    ax.annotate(f"{name}\\n{year}", (year, 0), xytext=(0, (10, -28, 38, -56)[k % 4]), textcoords="offset points",
                ha="center", fontsize=8)
ax.set_ylim(-1, 1)
ax.set_yticks([])
ax.set_title("From feed-forward networks to the Transformer")
plt.show()

report("L01.1", years=years, gaps=gaps, span=years[-1] - years[0], longest_gap=gaps[longest],
       longest_gap_after=longest)
""",),
    try_this="""
# Try this: how many years passed between additive attention (Bahdanau) and the Transformer?
print(years[-1] - years[4])
""",
    checks={
        "years": "history.*.year", "gaps": "timeline_facts.gaps", "span": "timeline_facts.span_years",
        "longest_gap": "timeline_facts.longest_gap", "longest_gap_after": "timeline_facts.longest_gap_after",
    },
)

L01_2 = TopicCells(
    topic="L01.2",
    explanation="""
A recurrent network reads the sentence one token at a time, h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh).
The seq2seq encoder hands the decoder only its last state, 4 numbers whatever the sentence's length
(the bottleneck). Bahdanau's additive attention lets the decoder look back at every state:
e_j = v . tanh(W s + U h_j), alpha = softmax(e), c = sum_j alpha_j h_j.
""",
    code=("""
RNN_SEED = ${RNN_SEED}
torch.manual_seed(RNN_SEED)  # PyTorch's default init, U(-1/2, 1/2)
rnn = nn.RNN(D_MODEL, D_MODEL, nonlinearity="tanh", batch_first=True).double()


@torch.no_grad()
def encode(tokens):
    \"\"\"The hidden states h_1 ... h_T of the RNN over the tokens (h_0 = 0).\"\"\"
    out, _ = rnn(embed(tokens)[None])
    return out[0]


H = encode(SENTENCE)
show("hidden state after each token", H, SENTENCE)

LONG_SENTENCE = ${LONG_SENTENCE}
H_long = encode(LONG_SENTENCE)
for tokens, h in ((SENTENCE, H), (LONG_SENTENCE, H_long)):
    print(f"{len(tokens)} tokens, {len(tokens) * D_MODEL} numbers in -> 4 numbers out:",
          [round(x, 2) for x in h[-1].tolist()])
""", """
# One decoder step of additive attention over the encoder states.
BAHDANAU_SEED = ${BAHDANAU_SEED}
W_s, W, U = gaussian((3, D_MODEL, D_MODEL), BAHDANAU_SEED)
v = gaussian((D_MODEL,), BAHDANAU_SEED + 100, std=2.0)
s = torch.tanh(W_s @ H[-1])               # the decoder's first state, from the encoder's last
hidden = torch.tanh((W @ s)[None, :] + H @ U.T)  # tanh(W s + U h_j), one row per j
e = hidden @ v                            # e_j = v . tanh(W s + U h_j)
alpha = ar.softmax(e)                     # alignment weights
c = alpha @ H                             # context vector
show("scores e_j", e, ["e"], SENTENCE)
show("weights alpha_j", ar.round_to_sum(alpha), ["alpha"], SENTENCE)
show("context c", c, ["c"])

plt.figure(figsize=(5, 2.5))
plt.bar(SENTENCE, alpha.tolist())
plt.title("Additive attention: where the decoder looks")
plt.ylabel("weight")
plt.show()

report("L01.2", inputs=X, w_ih=rnn.weight_ih_l0, w_hh=rnn.weight_hh_l0, b_ih=rnn.bias_ih_l0, b_hh=rnn.bias_hh_l0,
       states=H, long_states=H_long, decoder_state=s, hidden=hidden, final_states=[H[-1], H_long[-1]],
       input_numbers=[len(SENTENCE) * D_MODEL, len(LONG_SENTENCE) * D_MODEL],
       scores=e, weights=alpha, weights_shown=ar.round_to_sum(alpha), context=c)
"""),
    try_this="""
# Try this: encode a sentence of your own (words from VOCAB). Its last state is still 4 numbers.
print(encode(["a", "cat", "slept", "all", "day"])[-1])
""",
    checks={
        "inputs": "rnn_states.inputs", "w_ih": "rnn_states.w_ih", "w_hh": "rnn_states.w_hh",
        "b_ih": "rnn_states.b_ih", "b_hh": "rnn_states.b_hh", "long_states": "seq2seq_bottleneck.states.1",
        "decoder_state": "bahdanau_alignment.decoder_state", "hidden": "bahdanau_alignment.hidden",
        "states": "rnn_states.states", "final_states": "seq2seq_bottleneck.final_states",
        "input_numbers": "seq2seq_bottleneck.input_numbers", "scores": "bahdanau_alignment.scores",
        "weights": "bahdanau_alignment.weights", "weights_shown": "bahdanau_alignment.weights_shown",
        "context": "bahdanau_alignment.context",
    },
)

L01_3 = TopicCells(
    topic="L01.3",
    explanation="""
In an RNN a signal from token j reaches token i through |i - j| steps; attention connects every pair
in one. The gradient shows why that matters: we measure the size of d y_T / d x_t, the last output's
sensitivity to an input t steps back, for a tanh RNN, an LSTM and one causal attention layer (width 8,
PyTorch's default initialisation, geometric mean over 4 seeds).
""",
    code=("""
n = len(SENTENCE)
i, j = torch.arange(n)[:, None], torch.arange(n)[None, :]
rnn_steps = (i - j).abs()      # steps from token j to token i in an RNN
attention_steps = (i != j).long()  # one step in attention (zero to itself)
show("RNN path lengths", rnn_steps, SENTENCE, SENTENCE, decimals=0)
show("attention path lengths", attention_steps, SENTENCE, SENTENCE, decimals=0)
""", """
WIDTH, SEEDS, LENGTH = ${GRAD_WIDTH}, ${GRAD_SEEDS}, ${GRAD_MAX_DISTANCE} + 1


def model(kind, seed):
    torch.manual_seed(seed)
    if kind == "RNN":
        m = nn.RNN(WIDTH, WIDTH, nonlinearity="tanh", batch_first=True).double()
        return lambda x: m(x)[0]
    if kind == "LSTM":
        m = nn.LSTM(WIDTH, WIDTH, batch_first=True).double()
        return lambda x: m(x)[0]
    return ar.MultiHeadAttention(WIDTH, 1, causal=True).double()


def gradient_by_distance(f, x):
    \"\"\"||d y_T / d x_t|| for distance T - t = 1 ... T-1, in one backward pass: WIDTH copies of the
    sequence, copy c back-propagates component c of y_T.\"\"\"
    xs = x.expand(WIDTH, -1, -1).clone().requires_grad_(True)
    y = f(xs)[:, -1]
    (g,) = torch.autograd.grad(y.diagonal().sum(), xs)
    return (g ** 2).sum(dim=(0, 2)).sqrt().flip(0)[1:]


curves, per_seed = {}, {}
for kind in ("RNN", "LSTM", "attention"):
    runs = []
    for seed in SEEDS:
        x = torch.randn(1, LENGTH, WIDTH, dtype=torch.float64, generator=torch.Generator().manual_seed(1000 + seed))
        runs.append(gradient_by_distance(model(kind, seed), x))
    per_seed[kind] = torch.stack(runs)
    curves[kind] = per_seed[kind].log().mean(0).exp()  # geometric mean over the seeds

SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


def on_screen(v):
    \"\"\"0.030 above 0.001; 9.8 x 10^-12 (two significant digits) below, as the plot's labels.\"\"\"
    if abs(v) >= 1e-3:
        return f"{v:.{3 if abs(v) < 0.1 else 2}f}"
    mantissa, exponent = f"{v:.1e}".split("e")
    return f"{mantissa} \\u00d7 10" + str(int(exponent)).translate(SUPERSCRIPT)


distances = range(1, LENGTH)
plt.figure(figsize=(6, 3.5))
for kind, curve in curves.items():
    plt.semilogy(distances, curve.tolist(), label=kind)
plt.xlabel("distance T - t")
plt.ylabel("gradient size")
plt.legend()
plt.title("Gradient of the last output with respect to earlier inputs")
plt.show()

ends = {kind: curve[-1].item() for kind, curve in curves.items()}
for kind, value in ends.items():
    print(f"{kind:10s} at distance {LENGTH - 1}: {on_screen(value)}")
ratio_rnn, ratio_lstm = ends["attention"] / ends["RNN"], ends["attention"] / ends["LSTM"]
print(f"attention's gradient is {ratio_rnn:.3g} times the RNN's and {ratio_lstm:.3g} times the LSTM's")
everything = torch.cat(list(curves.values()))
decades = list(range(math.floor(math.log10(everything.min())), math.ceil(math.log10(everything.max())) + 1))

report("L01.3", rnn_steps=rnn_steps, attention_steps=attention_steps, rnn=curves["RNN"], lstm=curves["LSTM"],
       attention=curves["attention"], rnn_per_seed=per_seed["RNN"], lstm_per_seed=per_seed["LSTM"],
       attention_per_seed=per_seed["attention"], ends=list(ends.values()),
       ends_shown=[on_screen(v) for v in ends.values()],
       ratio_rnn=ratio_rnn, ratio_lstm=ratio_lstm, decades=decades)
"""),
    try_this="""
# Try this: a longer stretch. How small is the RNN's gradient 64 steps back (one seed)?
x = torch.randn(1, 65, WIDTH, dtype=torch.float64, generator=torch.Generator().manual_seed(1000))
print(on_screen(gradient_by_distance(model("RNN", 0), x)[-1].item()))
""",
    checks={
        "rnn_steps": "path_lengths.rnn", "attention_steps": "path_lengths.attention",
        "rnn": "gradient_vs_distance.rnn", "lstm": "gradient_vs_distance.lstm",
        "attention": "gradient_vs_distance.attention", "rnn_per_seed": "gradient_vs_distance.rnn_per_seed",
        "lstm_per_seed": "gradient_vs_distance.lstm_per_seed",
        "attention_per_seed": "gradient_vs_distance.attention_per_seed",
        "ends": "gradient_summary.ends.*.value", "ends_shown": "gradient_summary.ends.*.shown",
        "ratio_rnn": "gradient_summary.ratio_attention_rnn", "ratio_lstm": "gradient_summary.ratio_attention_lstm",
        "decades": "gradient_summary.decades",
    },
)

L01_4 = TopicCells(
    topic="L01.4",
    explanation="""
A Python dict returns the value of a key that matches exactly, or fails. Attention is a soft lookup:
it scores the query against every key, turns the scores into weights with softmax and returns the
weighted blend of the values. In self-attention, queries, keys and values are three linear
projections of the same embeddings: Q = X W_Q, K = X W_K, V = X W_V. The lecture draws W_Q, W_K, W_V
(rounded to two decimals) from the first seed whose attention weights are instructive to look at.
""",
    code=("""
animals = ("cat", "bird", "spider", "fish")
key_vectors = torch.tensor([[1.0, 0.2], [0.3, 1.0], [-1.0, 0.4], [-0.2, -1.0]], dtype=torch.float64)
legs = torch.tensor([4.0, 2.0, 8.0, 0.0], dtype=torch.float64)
lookup = dict(zip(animals, legs.tolist()))
print("lookup['cat'] =", lookup["cat"], "  'kitten' in lookup:", "kitten" in lookup)

kitten = torch.tensor([2.0, 0.5], dtype=torch.float64)  # near "cat", a little towards "bird"
answer, w = ar.sdpa(kitten[None, None, None], key_vectors[None, None], legs[None, None, :, None], scale=1.0,
                    return_weights=True)
w = w[0, 0, 0]
show("scores q . k_j", key_vectors @ kitten, ["kitten"], animals)
show("weights", ar.round_to_sum(w), ["kitten"], animals)
print(f"soft lookup of 'kitten': {answer.item():.2f} legs")

plt.figure(figsize=(3.5, 3.5))
for name, (a, b) in zip(animals, key_vectors.tolist()):
    plt.arrow(0, 0, a, b, head_width=0.05, length_includes_head=True)
    plt.annotate(name, (a, b))
plt.arrow(0, 0, *kitten.tolist(), head_width=0.05, color="C1", length_includes_head=True)
plt.annotate("kitten (query)", kitten.tolist(), color="C1")
plt.axis("equal")
plt.title("Keys and the query")
plt.show()
""", """
PROJ_STD = ${PROJ_STD}


def projections(seed):
    \"\"\"W_Q, W_K, W_V: seeded N(0, 0.5^2) entries rounded to two decimals.\"\"\"
    w_q, w_k, w_v = gaussian((3, D_MODEL, D_MODEL), seed, PROJ_STD)
    return w_q, w_k, w_v


def instructive(p):
    \"\"\"Worth drawing: each row's top weight in [0.3, 0.8], every weight >= 0.02, the rows' favourite
    keys cover at least 3 tokens, and every two rows differ by >= 0.25 (L1).\"\"\"
    top = p.max(dim=-1).values
    if not ((top >= 0.3) & (top <= 0.8)).all() or p.min() < 0.02:
        return False
    if p.argmax(dim=-1).unique().numel() < 3:
        return False
    dist = (p[:, None, :] - p[None, :, :]).abs().sum(-1)
    return bool((dist[~torch.eye(p.shape[0], dtype=torch.bool)] >= 0.25).all())


for seed in ${PROJ_SEEDS}:
    W_Q, W_K, W_V = projections(seed)
    Q, K, V = X @ W_Q, X @ W_K, X @ W_V
    _, P = ar.sdpa(Q[None, None], K[None, None], V[None, None], return_weights=True)
    if instructive(P[0, 0]):
        break
PROJ_SEED = seed
print("projection seed:", PROJ_SEED)
for name, m in (("W_Q", W_Q), ("W_K", W_K), ("W_V", W_V)):
    show(name, m)
for name, m in (("Q = X W_Q", Q), ("K = X W_K", K), ("V = X W_V", V)):
    show(name, m, SENTENCE)

report("L01.4", exact_value=lookup["cat"], exact_miss="kitten" not in lookup, scores=key_vectors @ kitten,
       weights=w, weights_shown=ar.round_to_sum(w), blended=answer.item(),
       x=X, w_q=W_Q, w_k=W_K, w_v=W_V, q=Q, k=K, v=V, seed=PROJ_SEED)
"""),
    try_this="""
# Try this: a query between "bird" and "spider". Which animals get the weight, and how many legs?
query = torch.tensor([-0.5, 1.0], dtype=torch.float64)
out, w_try = ar.sdpa(query[None, None, None], key_vectors[None, None], legs[None, None, :, None], scale=1.0,
                     return_weights=True)
print(dict(zip(animals, ar.round_to_sum(w_try[0, 0, 0]).tolist())), f"{out.item():.2f} legs")
""",
    checks={
        "exact_value": "soft_dictionary.exact_value", "exact_miss": "soft_dictionary.exact_miss",
        "scores": "soft_dictionary.scores", "weights": "soft_dictionary.weights",
        "weights_shown": "soft_dictionary.weights_shown", "blended": "soft_dictionary.blended_value",
        "x": "qkv_projections.x", "w_q": "qkv_projections.w_q", "w_k": "qkv_projections.w_k",
        "w_v": "qkv_projections.w_v", "q": "qkv_projections.q", "k": "qkv_projections.k",
        "v": "qkv_projections.v", "seed": "qkv_projections.seed",
    },
)

L01_5 = TopicCells(
    topic="L01.5",
    explanation="""
The score of query i against key j is the dot product S_ij = sum_d q_id k_jd, and all of them at once
are S = Q K^T (5 x 4 times 4 x 5 gives 5 x 5). After scaling and softmax (next topic), the output of
query i is the weighted sum of the value rows, out_i = sum_j P_ij v_j. We follow the query "sat" and
its score with the key "cat".
""",
    code=("""
QUERY_TOKEN, KEY_TOKEN = ${QUERY_TOKEN}, ${KEY_TOKEN}
i, j = SENTENCE.index(QUERY_TOKEN), SENTENCE.index(KEY_TOKEN)
print("shapes:", tuple(Q.shape), "x", tuple(K.T.shape), "->", (Q.shape[0], K.shape[0]))
S = ar.attention_scores(Q[None, None], K[None, None], scale=1.0)[0, 0]  # Q K^T, unscaled

products = Q[i] * K[j]
score = products.sum()
print(f"q_{QUERY_TOKEN} . k_{KEY_TOKEN} = " + " + ".join(f"{x:.2f}" for x in ar.round_to_sum(products).tolist())
      + f" = {score:.2f}")
show("K^T", K.T, cols=SENTENCE)
show("S = Q K^T", S, SENTENCE, SENTENCE)
print(f"row '{QUERY_TOKEN}': largest at '{SENTENCE[S[i].argmax()]}' ({S[i].max():.2f}), "
      f"smallest at '{SENTENCE[S[i].argmin()]}' ({S[i].min():.2f})")

P = ar.softmax(Q @ K.T * D_MODEL ** -0.5, dim=-1)  # the weights of the worked example (L01.6, L01.7)
weighted = P[i][:, None] * V                          # P_ij v_j, one row per key
weighted_shown = ar.round_to_sum(weighted, decimals=2, dim=0)  # columns add up to the rounded output
show(f"P_({QUERY_TOKEN}, j) v_j", weighted_shown, SENTENCE)
show(f"out_{QUERY_TOKEN} = sum_j P_({QUERY_TOKEN}, j) v_j", weighted.sum(0), [QUERY_TOKEN])

fig, ax = plt.subplots(figsize=(4, 4))
ax.imshow(S, cmap="coolwarm")
ax.set_xticks(range(len(SENTENCE)), SENTENCE)
ax.set_yticks(range(len(SENTENCE)), SENTENCE)
for a in range(len(SENTENCE)):
    for b in range(len(SENTENCE)):
        ax.text(b, a, f"{S[a, b]:.2f}", ha="center", va="center", fontsize=8)
ax.add_patch(plt.Rectangle((-0.5, i - 0.5), len(SENTENCE), 1, fill=False, lw=2))
ax.set_title("Scores S = Q K^T")
plt.show()

report("L01.5", q_shape=list(Q.shape), kt_shape=list(K.T.shape), scores_shape=list(S.shape), q_row=Q[i], k_row=K[j],
       products=products, products_shown=ar.round_to_sum(products), score=score.item(),
       score_shown=round(score.item(), 2), scores=S, kt=K.T, row_max_key=int(S[i].argmax()),
       row_max=S[i].max().item(), row_min_key=int(S[i].argmin()), row_min=S[i].min().item(), weights_row=P[i],
       weights_row_shown=ar.round_to_sum(P[i]), weighted_values=weighted, weighted_values_shown=weighted_shown,
       output_row=weighted.sum(0), output_shown=weighted_shown.sum(0).round(decimals=2))
""",),
    try_this="""
# Try this: follow another query. Which key does "mats" score highest?
k = SENTENCE.index("mats")
print(SENTENCE[S[k].argmax()], f"{S[k].max():.2f}")
""",
    checks={
        "q_shape": "dot_product_walkthrough.q_shape", "kt_shape": "dot_product_walkthrough.kt_shape",
        "scores_shape": "dot_product_walkthrough.scores_shape", "q_row": "dot_product_walkthrough.q_row",
        "k_row": "dot_product_walkthrough.k_row", "products": "dot_product_walkthrough.products",
        "products_shown": "dot_product_walkthrough.products_shown", "score": "dot_product_walkthrough.score",
        "score_shown": "dot_product_walkthrough.score_shown", "scores": "dot_product_walkthrough.scores",
        "kt": "score_grid_extra.kt", "row_max_key": "score_grid_extra.row_max_key",
        "row_max": "score_grid_extra.row_max", "row_min_key": "score_grid_extra.row_min_key",
        "row_min": "score_grid_extra.row_min", "weights_row": "dot_product_walkthrough.weights_row",
        "weights_row_shown": "dot_product_walkthrough.weights_row_shown",
        "weighted_values": "dot_product_walkthrough.weighted_values",
        "weighted_values_shown": "score_grid_extra.weighted_values_shown",
        "output_row": "dot_product_walkthrough.output_row", "output_shown": "score_grid_extra.output_shown",
    },
)

L01_6 = TopicCells(
    topic="L01.6",
    explanation="""
softmax(s)_j = exp(s_j) / sum_k exp(s_k): exponentiate, add up, divide. Dividing the scores by a
temperature T sharpens (T < 1) or flattens (T > 1) the weights. Why divide by sqrt(d_k)? A dot product
of two vectors with unit-variance entries has variance d_k, so large heads produce large scores, a
saturated (one-hot) softmax and a vanishing gradient; dividing by sqrt(d_k) brings the variance back
to 1. Finally, exp(1000) overflows: subtracting the row's maximum first changes nothing mathematically
and keeps softmax finite.
""",
    code=("""
scale = D_MODEL ** -0.5
row = (Q @ K.T * scale)[i]  # the scaled scores of the query "sat"
exps = torch.exp(row)
weights = ar.softmax(row)
show("s_j = q . k_j / sqrt(d_k)", row, [QUERY_TOKEN], SENTENCE)
show("exp(s_j)", ar.round_to_sum(exps), [QUERY_TOKEN], SENTENCE)
print(f"sum = {exps.sum():.2f}")
show("softmax", ar.round_to_sum(weights), [QUERY_TOKEN], SENTENCE)

TEMPERATURES = ${TEMPERATURES}
by_temperature = torch.stack([ar.softmax(row / t) for t in TEMPERATURES])
entropy = -(by_temperature * by_temperature.log()).sum(-1)
fig, axes = plt.subplots(1, len(TEMPERATURES), figsize=(12, 2.5), sharey=True)
for ax, t, p, h in zip(axes, TEMPERATURES, by_temperature, entropy):
    ax.bar(SENTENCE, p.tolist())
    ax.set_title(f"T = {t}: max {p.max():.2f}, entropy {h:.2f}")
plt.show()
""", """
D_KS = ${D_KS}
variance, variance_scaled = [], []
for d in D_KS:
    g = torch.Generator().manual_seed(${VARIANCE_SEED} + d)
    chunks = [torch.randn(2500, d, generator=g) * torch.randn(2500, d, generator=g)  # q_i k_i in float32
              for _ in range(${VARIANCE_SAMPLES} // 2500)]
    dots = torch.cat([c.sum(-1, dtype=torch.float64) for c in chunks])  # q . k, summed in float64
    variance.append(dots.var().item())
    variance_scaled.append((dots / math.sqrt(d)).var().item())
for d, a, b in zip(D_KS, variance, variance_scaled):
    print(f"d_k = {d:5d}: Var(q . k) = {a:8.1f}, after / sqrt(d_k): {b:.2f}")


def jacobian_norm(s):
    \"\"\"||d softmax(s) / d s||_F per row of s, by autograd (one pass per output).\"\"\"
    s = s.clone().requires_grad_(True)
    p = ar.softmax(s, dim=-1)
    sq = torch.zeros(s.shape[0], dtype=s.dtype)
    for c in range(s.shape[1]):
        (g,) = torch.autograd.grad(p[:, c].sum(), s, retain_graph=True)
        sq += (g ** 2).sum(-1)
    return sq.sqrt()


N_KEYS, SAMPLES = ${SATURATION_KEYS}, ${SATURATION_SAMPLES}
max_weight = {"unscaled": [], "scaled": []}
gradient = {"unscaled": [], "scaled": []}
for d in D_KS:
    g = torch.Generator().manual_seed(${SATURATION_SEED} + d)
    q = torch.randn(SAMPLES, 1, d, generator=g, dtype=torch.float64)
    k = torch.randn(SAMPLES, N_KEYS, d, generator=g, dtype=torch.float64)
    s = (q * k).sum(-1)
    for name, scores in (("unscaled", s), ("scaled", s / math.sqrt(d))):
        max_weight[name].append(ar.softmax(scores).max(-1).values.mean().item())
        gradient[name].append(jacobian_norm(scores).mean().item())
uniform = jacobian_norm(torch.zeros(1, N_KEYS, dtype=torch.float64)).item()

fig, (a, b, c) = plt.subplots(1, 3, figsize=(13, 3.2))
a.loglog(D_KS, variance, "o-", label="q . k")
a.loglog(D_KS, variance_scaled, "o-", label="q . k / sqrt(d_k)")
a.set_xlabel("d_k")
a.set_title("variance of the score")
a.legend()
for name in ("unscaled", "scaled"):
    b.semilogx(D_KS, max_weight[name], "o-", label=name)
    c.semilogx(D_KS, gradient[name], "o-", label=name)
b.set_title("largest softmax weight (8 keys)")
c.axhline(uniform, color="gray", ls=":", label="uniform weights")
c.set_title("softmax gradient size")
for ax in (b, c):
    ax.set_xlabel("d_k")
    ax.legend()
plt.show()
""", """
scores32 = torch.tensor(${LARGE_SCORES}, dtype=torch.float32)
naive = torch.exp(scores32) / torch.exp(scores32).sum()  # exp(1000) = inf in float32, inf / inf = nan
overflow = math.log(torch.finfo(torch.float32).max)
print("naive float32 softmax:", naive.tolist(), f" exp overflows above {overflow:.2f}")
big = scores32.double()
shifted = big - big.max()
stable = ar.softmax(big)  # subtracts the maximum first
print("shifted scores:", shifted.tolist(), " exps:", ar.round_to_sum(torch.exp(shifted)).tolist())
print("stable softmax:", ar.round_to_sum(stable).tolist(),
      " float32 too:", [round(x, 2) for x in ar.softmax(scores32).tolist()])

report("L01.6", scores=row, exps=exps, total=exps.sum().item(), weights=weights, weights_shown=ar.round_to_sum(weights),
       exps_shown=ar.round_to_sum(exps), total_shown=round(ar.round_to_sum(exps).sum().item(), 2),
       by_temperature=by_temperature, by_temperature_shown=ar.round_to_sum(by_temperature), entropy=entropy,
       max_weight_by_temperature=by_temperature.max(-1).values,
       variance=variance, variance_scaled=variance_scaled, max_weight_unscaled=max_weight["unscaled"],
       max_weight_scaled=max_weight["scaled"], gradient_unscaled=gradient["unscaled"],
       gradient_scaled=gradient["scaled"], gradient_uniform=uniform, naive=naive.double(),
       naive_exps=torch.exp(scores32).double(),
       max_score=big.max().item(), shifted_total=torch.exp(shifted).sum().item(),
       shifted_total_shown=round(ar.round_to_sum(torch.exp(shifted)).sum().item(), 2),
       reference=torch.softmax(big, -1), naive_total=torch.exp(scores32).sum().item(), overflow=overflow,
       shifted=shifted, shifted_exps=torch.exp(shifted), shifted_exps_shown=ar.round_to_sum(torch.exp(shifted)),
       stable=stable, stable_float32=ar.softmax(scores32).double(), stable_shown=ar.round_to_sum(stable))
"""),
    try_this="""
# Try this: a very low temperature. The weights approach one-hot on the largest score.
print(ar.round_to_sum(ar.softmax(row / 0.05)).tolist())
""",
    checks={
        "scores": "softmax_walkthrough.scores", "exps": "softmax_walkthrough.exps",
        "total": "softmax_walkthrough.total", "weights": "softmax_walkthrough.weights",
        "weights_shown": "softmax_walkthrough.weights_shown", "exps_shown": "softmax_extra.exps_shown",
        "total_shown": "softmax_extra.total_shown", "by_temperature": "temperature_rows.weights",
        "by_temperature_shown": "temperature_rows.weights_shown", "entropy": "temperature_rows.entropy",
        "max_weight_by_temperature": "temperature_rows.max_weight",
        "naive_exps": "stable_softmax_demo.naive_exps", "max_score": "stable_softmax_demo.max_score",
        "shifted_total": "stable_softmax_demo.shifted_total",
        "shifted_total_shown": "softmax_extra.shifted_total_shown",
        "reference": "stable_softmax_demo.reference",
        "variance": "dot_product_variance.measured", "variance_scaled": "dot_product_variance.measured_scaled",
        "max_weight_unscaled": "saturation.max_weight_unscaled", "max_weight_scaled": "saturation.max_weight_scaled",
        "gradient_unscaled": "saturation.jacobian_norm_unscaled",
        "gradient_scaled": "saturation.jacobian_norm_scaled", "gradient_uniform": "saturation.jacobian_norm_uniform",
        "naive": "stable_softmax_demo.naive_weights", "naive_total": "stable_softmax_demo.naive_total",
        "overflow": "stable_softmax_demo.overflow_threshold", "shifted": "stable_softmax_demo.shifted",
        "shifted_exps": "stable_softmax_demo.shifted_exps",
        "shifted_exps_shown": "softmax_extra.shifted_exps_shown", "stable": "stable_softmax_demo.weights",
        "stable_float32": "stable_softmax_demo.weights_float32", "stable_shown": "stable_softmax_demo.weights_shown",
    },
)

L01_7 = TopicCells(
    topic="L01.7",
    explanation="""
The whole of attention on the running sentence: embeddings, Q, K, V, the scores Q K^T, the scale
1/sqrt(d_k), softmax along each row, and the output P V, then one call of `ar.sdpa` that does it all.
""",
    code=("""
scores = Q @ K.T
scale = Q.shape[-1] ** -0.5
scaled = scores * scale
P = ar.softmax(scaled, dim=-1)  # each row (one query) sums to 1
out = P @ V
reference = ar.sdpa(Q[None, None], K[None, None], V[None, None])[0, 0]
show("Q K^T", scores, SENTENCE, SENTENCE)
show(f"Q K^T x {scale}", scaled, SENTENCE, SENTENCE)
show("P = softmax (rows add up to 1.00)", ar.round_to_sum(P), SENTENCE, SENTENCE)
show("output P V", out, SENTENCE)
print("largest difference from ar.sdpa:", (out - reference).abs().max().item())

fig, ax = plt.subplots(figsize=(4, 4))
heatmap(ax, P, SENTENCE, SENTENCE, "Attention weights P")
plt.show()

report("L01.7", max_abs_diff=(out - reference).abs().max().item(), scores=scores, scale=scale, scaled=scaled,
       weights=P, weights_shown=ar.round_to_sum(P), output=out,
       sdpa_output=reference)
""",),
    try_this="""
# Try this: another projection seed. Is its weight matrix instructive?
w_q, w_k, w_v = projections(PROJ_SEED + 1)
p_try = ar.softmax((X @ w_q) @ (X @ w_k).T * scale)
print(instructive(p_try))
print(ar.round_to_sum(p_try))
""",
    checks={
        "max_abs_diff": "worked_example.max_abs_diff", "scores": "worked_example.scores",
        "scale": "worked_example.scale", "scaled": "worked_example.scaled",
        "weights": "worked_example.weights", "weights_shown": "worked_example.weights_shown",
        "output": "worked_example.output", "sdpa_output": "worked_example.sdpa_output",
    },
)

L01_8 = TopicCells(
    topic="L01.8",
    explanation="""
The weights of the worked example as a heat map (rows are queries), and the strongest query-key pairs
(the arcs on screen). Then four patterns that trained models show, each built from real queries and
keys: attend to yourself, to the previous token, to the first token, or average over everything.
""",
    code=("""
n = len(SENTENCE)
arcs = sorted(((a, b, P[a, b].item()) for a in range(n) for b in range(n)), key=lambda arc: -arc[2])
for a, b, p in arcs[:5]:
    print(f"{SENTENCE[a]:>5} -> {SENTENCE[b]:<5} {p:.2f}")

unit = X / X.norm(dim=-1, keepdim=True)
pe = ar.sinusoidal_positions(n + 1, 4, base=10.0)
m = torch.tensor([1.0, 1.0, 1.0, 1.0], dtype=torch.float64)
m_hat = m / m.norm()
rest = X - (X @ m_hat)[:, None] * m_hat  # X without the shared direction
k_first = rest.clone()
k_first[0] = 3 * m_hat
patterns = {  # name: (queries, keys, scale)
    "diagonal": (3 * unit, 3 * unit, 1.0),              # q_i . k_j = 9 cos(angle), largest at j = i
    "previous token": (pe[:n], pe[1:], 5.0),             # positions shifted by one
    "first token": (m + 0.3 * rest, k_first, 1.0),       # the first key holds what every query shares
    "broad": (0.02 * X, X, 1.0),                         # scores near zero: near-uniform rows
}
pattern_weights = {}
fig, axes = plt.subplots(1, 5, figsize=(20, 4))
heatmap(axes[0], P, SENTENCE, SENTENCE, "worked example")
for ax, (name, (q, k, s)) in zip(axes[1:], patterns.items()):
    _, p = ar.sdpa(q[None, None], k[None, None], V[None, None], scale=s, return_weights=True)
    pattern_weights[name] = p[0, 0]
    heatmap(ax, p[0, 0], SENTENCE, SENTENCE, name)
plt.tight_layout()
plt.show()

report("L01.8", heatmap=P, heatmap_shown=ar.round_to_sum(P), arcs=arcs,
       patterns=[pattern_weights[name] for name in patterns],
       patterns_shown=[ar.round_to_sum(p) for p in pattern_weights.values()])
""",),
    try_this="""
# Try this: sharpen the previous-token pattern with a larger scale.
q, k, _ = patterns["previous token"]
_, p = ar.sdpa(q[None, None], k[None, None], V[None, None], scale=20.0, return_weights=True)
print(ar.round_to_sum(p[0, 0]))
""",
    checks={
        "heatmap": "attention_patterns.heatmap", "heatmap_shown": "attention_patterns.heatmap_shown",
        "arcs": "attention_patterns.arcs", "patterns": "attention_patterns.canonical.*.weights",
        "patterns_shown": "attention_patterns.canonical.*.weights_shown",
    },
)

L01_9 = TopicCells(
    topic="L01.9",
    explanation="""
A mask decides which keys a query may see. A causal mask (a decoder predicting the next token) sets
the scores of future keys to minus infinity, so softmax gives them weight exactly 0. A padding mask
hides the `<pad>` tokens that fill the shorter sentences of a batch. And when a decoder with a KV
cache computes only its newest queries, the causal mask must be aligned to the lower right.
""",
    code=("""
n = len(SENTENCE)
mask = ar.causal_mask(n, n)  # True = may attend
masked_scores = ar.attention_scores(Q[None, None], K[None, None], is_causal=True)[0, 0]
causal_out, causal_p = ar.sdpa(Q[None, None], K[None, None], V[None, None], is_causal=True, return_weights=True)
causal_p = causal_p[0, 0]
show("masked scores (-inf above the diagonal)", masked_scores, SENTENCE, SENTENCE)
show("causal weights", ar.round_to_sum(causal_p), SENTENCE, SENTENCE)
""", """
PADDED_BATCH = ${PADDED_BATCH}
length = max(len(t) for t in PADDED_BATCH)
padded = [list(t) + [PAD] * (length - len(t)) for t in PADDED_BATCH]
lengths = [len(t) for t in PADDED_BATCH]
xs = torch.stack([embed(t) for t in padded])  # (batch, length, d_model)
q, k, v = ((xs @ W)[:, None] for W in (W_Q, W_K, W_V))  # (batch, 1 head, length, d)
pad = ar.padding_mask(lengths, length)  # (batch, length), True = real token
_, p_masked = ar.sdpa(q, k, v, attn_mask=ar.key_padding_to_attn_mask(pad), return_weights=True)
_, p_raw = ar.sdpa(q, k, v, return_weights=True)
p_masked, p_raw = p_masked[:, 0], p_raw[:, 0]
b = min(range(len(lengths)), key=lambda s: lengths[s])  # the shortest sentence
is_pad = torch.tensor([t == PAD for t in padded[b]])
leak = p_raw[b][:, is_pad].sum(-1)
print(f"'{' '.join(padded[b])}': weight on <pad> without the mask", [round(x, 2) for x in leak.tolist()])
fig, axes = plt.subplots(1, 3, figsize=(13, 4))
heatmap(axes[0], causal_p, SENTENCE, SENTENCE, "causal")
heatmap(axes[1], p_raw[b], padded[b], padded[b], "padding, no mask")
heatmap(axes[2], p_masked[b], padded[b], padded[b], "padding, masked")
plt.tight_layout()
plt.show()
""", """
# Decoding the last N_NEW tokens against a cache of all 5 keys.
N_NEW = ${N_NEW}
full_out, full_p = ar.sdpa(Q[None, None], K[None, None], V[None, None], is_causal=True, return_weights=True)
full_out, full_p = full_out[0, 0, -N_NEW:], full_p[0, 0, -N_NEW:]
aligned = {}
for alignment in ar.CAUSAL_ALIGNMENTS:
    m = ar.causal_mask(N_NEW, n, alignment)
    o, p = ar.sdpa(Q[-N_NEW:][None, None], K[None, None], V[None, None], attn_mask=m, return_weights=True)
    aligned[alignment] = (m, p[0, 0], o[0, 0], (o[0, 0] - full_out).abs().max().item())
    print(f"{alignment:12s} keys visible per new query: {m.sum(-1).tolist()}, "
          f"largest difference from the full causal run: {aligned[alignment][3]:.2g}")

report("L01.9", mask=mask, additive=ar.bool_to_additive(mask), masked_scores=masked_scores, causal_weights=causal_p,
       causal_weights_shown=ar.round_to_sum(causal_p), causal_output=causal_out[0, 0], pad_mask=pad,
       padded_weights=p_masked, padded_weights_shown=ar.round_to_sum(p_masked), unmasked_weights=p_raw,
       shortest=b, pad_leak=leak, pad_mass_masked=p_masked[b][:, is_pad].sum(-1),
       upper_left=aligned["upper_left"][0], lower_right=aligned["lower_right"][0],
       weights_upper_left=aligned["upper_left"][1], weights_lower_right=aligned["lower_right"][1],
       weights_full=full_p, output_upper_left=aligned["upper_left"][2], output_lower_right=aligned["lower_right"][2],
       output_full=full_out, visible_upper_left=aligned["upper_left"][0].sum(-1),
       visible_lower_right=aligned["lower_right"][0].sum(-1), n_real=lengths[b],
       view_unmasked_shown=ar.round_to_sum(p_raw[b]), view_masked_shown=ar.round_to_sum(p_masked[b]),
       diff_upper_left=aligned["upper_left"][3], diff_lower_right=aligned["lower_right"][3])
"""),
    try_this="""
# Try this: pad the running sentence itself to length 7. With the mask, its weights do not change.
toks = [*SENTENCE, PAD, PAD]
xp = embed(toks)
_, p7 = ar.sdpa((xp @ W_Q)[None, None], (xp @ W_K)[None, None], (xp @ W_V)[None, None],
                attn_mask=ar.key_padding_to_attn_mask(ar.padding_mask([5], 7)), return_weights=True)
print((p7[0, 0, :5, :5] - P).abs().max().item())
""",
    checks={
        "mask": "causal_masking.mask", "additive": "causal_masking.additive",
        "masked_scores": "causal_masking.masked_scores", "causal_weights": "causal_masking.weights",
        "causal_weights_shown": "causal_masking.weights_shown", "causal_output": "causal_masking.output",
        "pad_mask": "padding_masking.pad_mask", "padded_weights": "padding_masking.weights",
        "padded_weights_shown": "padding_masking.weights_shown", "unmasked_weights": "padding_masking.weights_unmasked",
        "shortest": "padding_view.index", "pad_leak": "padding_view.pad_leak",
        "pad_mass_masked": "padding_view.pad_mass_masked", "upper_left": "alignment_demo.upper_left",
        "lower_right": "alignment_demo.lower_right", "weights_upper_left": "alignment_demo.weights_upper_left",
        "weights_lower_right": "alignment_demo.weights_lower_right", "weights_full": "alignment_demo.weights_full",
        "output_upper_left": "alignment_demo.output_upper_left",
        "output_lower_right": "alignment_demo.output_lower_right", "output_full": "alignment_demo.output_full",
        "visible_upper_left": "alignment_demo.visible_upper_left",
        "visible_lower_right": "alignment_demo.visible_lower_right", "n_real": "padding_view.n_real",
        "view_unmasked_shown": "padding_view.weights_unmasked_shown",
        "view_masked_shown": "padding_view.weights_masked_shown",
        "diff_upper_left": "alignment_demo.max_diff_upper_left",
        "diff_lower_right": "alignment_demo.max_diff_lower_right",
    },
)

NOTEBOOK = NotebookSpec(intro=INTRO, setup=SETUP, values=VALUES, data_package="scenes.l01_fundamentals.data",
                        topics=(L01_1, L01_2, L01_3, L01_4, L01_5, L01_6, L01_7, L01_8, L01_9))
