"""Lecture 3's companion notebook (``scripts/notebooks.py --lecture 03`` writes notebooks/03-*.ipynb).

The code cells are what a learner would write with ``attn_ref`` and torch: the same seeds, inputs and
calls as the data builders (``data/``), never an import of the scene package. ``$NAME`` placeholders
are filled with the data modules' own constants (``VALUES``), so a seed changed there changes the
notebook on regeneration. The lab's numbers are read from the committed JSON file
(results/experiments/needle_haystack.json), as a learner would read it. ``checks`` name the builder field
each printed number must equal; the tests (tests/notebooks) execute the notebook and compare.
"""
from __future__ import annotations

from scenes.kit.notebook import NotebookSpec, TopicCells, helpers

from .data import _shared, absolute_relative, benefits, implementation, rope_math, scaling

VALUES = {
    # shared inputs
    "VOCAB": _shared.VOCAB, "EMBED_DIM": _shared.EMBED_DIM, "EMBED_SEED": _shared.EMBED_SEED,
    "PROJ_SEED": _shared.PROJ_SEED, "PROJ_STD": _shared.PROJ_STD, "HEAD_DIM": _shared.HEAD_DIM,
    "BASE": _shared.BASE, "LLAMA3_BASE": _shared.LLAMA3_BASE, "GRID_DIM": _shared.GRID_DIM,
    "GRID_N": _shared.GRID_N, "CONTENT_SEED": _shared.CONTENT_SEED,
    # L03.1
    "SENTENCE": absolute_relative.SENTENCE, "PERMUTED": absolute_relative.PERMUTED,
    "PERMUTATION": absolute_relative.PERMUTATION, "SIN_N": absolute_relative.SIN_N,
    "SIN_D": absolute_relative.SIN_D, "T5_BUCKETS": absolute_relative.T5_BUCKETS,
    "T5_MAX_DISTANCE": absolute_relative.T5_MAX_DISTANCE, "T5_TABLE_SEED": absolute_relative.T5_TABLE_SEED,
    "SMALL_N": absolute_relative.GRID_N, "ALIBI_HEADS": absolute_relative.ALIBI_HEADS,
    "FIXED_TOKEN": absolute_relative.FIXED_TOKEN,
    # L03.2
    "Q2D": rope_math.Q2D, "K2D": rope_math.K2D, "THETA_2D": rope_math.THETA_2D, "M_2D": rope_math.M_2D,
    "N_2D": rope_math.N_2D, "SHIFTS": rope_math.SHIFTS, "WIDE_SEED": rope_math.WIDE_SEED,
    "DIAL_PLANES": rope_math.DIAL_PLANES, "DIAL_POSITIONS": rope_math.DIAL_POSITIONS,
    "DIAL_GAP": rope_math.DIAL_GAP, "DECAY_MAX": rope_math.DECAY_MAX, "NEAR": rope_math.NEAR,
    "FAR": rope_math.FAR,
    # L03.3
    "PAIR_DIM": implementation.PAIR_DIM, "PAIR_SEED": implementation.PAIR_SEED, "PIT_DIM": implementation.PIT_DIM,
    "PIT_N": implementation.PIT_N, "PIT_SEED": implementation.PIT_SEED,
    "PIT_SHARPNESS": implementation.PIT_SHARPNESS, "BF16_POSITIONS": implementation.BF16_POSITIONS,
    "PARTIAL_HEAD_DIM": implementation.PARTIAL_HEAD_DIM, "PARTIAL_PCT": implementation.PARTIAL_PCT,
    "PAD_MASK": implementation.PAD_MASK,
    # L03.4
    "EXPERIMENT": benefits.EXPERIMENT, "SCHEMES": benefits.SCHEMES, "LABELS": benefits.LABELS,
    "LOSS_FROM": benefits.LOSS_FROM, "TABLE_N": benefits.TABLE_N, "TABLE_SEED": benefits.TABLE_SEED,
    # L03.5
    "TRAIN_LENGTH": scaling.TRAIN_LENGTH, "FACTOR": scaling.FACTOR, "YARN_FACTOR": scaling.YARN_FACTOR,
    "LLAMA3_FACTOR": scaling.LLAMA3_FACTOR, "LLAMA3_TRAIN": scaling.LLAMA3_TRAIN, "LONG_BASE": scaling.LONG_BASE,
    "SCALING_SEED": scaling.SEED,
}

INTRO = """
Every number in the video of this lecture is computed by `attn_ref`, the course's tested library of
attention implementations, or read from a committed result file of the course's lab (tiny models trained
on a CPU). This notebook recomputes them with the same seeds, the same inputs and the same calls, and reads
the same result file, so you can check any number you saw on screen, then change the positions, the base,
the scaling factor or the pairing and see what moves. It needs only `attn_ref` (`pip install .` in the
repository, which also holds the result files) and matplotlib, and runs top to bottom on a CPU in well
under a minute.

The toy vectors are seeded random numbers rounded to two decimals (the embeddings of 'dog', 'bites',
'man', the projections W_Q, W_K, W_V, the fixed-content q and k of the score grids). They are untrained:
they show the mechanics of positions, not learned patterns. Learned behaviour comes from the lab's
experiment 2 (L03.4), where tiny models with different position schemes look for a needle in a haystack.

Plane indices are the code's, 0-based: `inv_freq[i] = b^(-2i/d)` for i = 0 ... d/2 - 1 (the RoFormer
paper writes θ_i with i starting at 1). The last line of each topic, `NUMBERS L03.k {...}`, prints its key
numbers at full precision: the repository's tests run this notebook and compare that line with the values
the video draws.
"""

SETUP = ("""
import itertools
import json
import math

import matplotlib.pyplot as plt
import torch

import attn_ref as ar
from attn_ref.lab import result_path  # results/experiments/<name>.json in the repository
""" + helpers("report", "show", "gaussian") + """

def rotate(x, positions, inv_freq, pairing="half", attention_factor=1.0):
    # One vector x (D,) rotated by ar.apply_rope at each of `positions`: (len(positions), D).
    pos = torch.as_tensor(positions, dtype=torch.long)
    xs = x.to(torch.float64).expand(1, 1, len(pos), x.shape[-1]).clone()  # (batch, heads, positions, D)
    return ar.apply_rope(xs, pos, inv_freq, pairing, attention_factor)[0, 0]


def toeplitz_deviation(grid):
    # max over the diagonals of (max - min) along the diagonal: 0 when the entry depends on i - j only.
    n_q, n_k = grid.shape
    return max(float(torch.diagonal(grid, o).max() - torch.diagonal(grid, o).min())
               for o in range(-(n_q - 1), n_k))
""" + helpers("load_lab", "lab_source"), """
# Lecture 3's toy vocabulary, embeddings (no position information at all) and projections (x W convention).
VOCAB = ${VOCAB}
EMBED_DIM, EMBED_SEED = ${EMBED_DIM}, ${EMBED_SEED}
PROJ_SEED, PROJ_STD = ${PROJ_SEED}, ${PROJ_STD}
embedding_table = gaussian((len(VOCAB), EMBED_DIM), EMBED_SEED)


def embed(tokens):
    # One row of the embedding table per token.
    return embedding_table[[VOCAB.index(t) for t in tokens]].clone()


W_Q, W_K, W_V = gaussian((3, EMBED_DIM, EMBED_DIM), PROJ_SEED, PROJ_STD)
show("embeddings", embedding_table, VOCAB)
for name, m in (("W_Q", W_Q), ("W_K", W_K), ("W_V", W_V)):
    show(name, m)

# The frequency plots: head width d = 128, base b = 10^4 (Llama 3's base 5 * 10^5 in L03.5).
HEAD_DIM, BASE, LLAMA3_BASE = ${HEAD_DIM}, ${BASE}, ${LLAMA3_BASE}
# The (m, n) score grids: fixed content q, k of width 8 (four planes) at positions 0 ... 11.
GRID_DIM, GRID_N, CONTENT_SEED = ${GRID_DIM}, ${GRID_N}, ${CONTENT_SEED}
q_content, k_content = gaussian((2, GRID_DIM), CONTENT_SEED)
""")

# ----------------------------------------------------------------------------------------------------

L03_1 = TopicCells(
    topic="L03.1",
    explanation="""
Attention by itself has no idea of order. Its scores compare every query with every key, and nothing in
q_i · k_j says where token i or token j sits. Feed 'man bites dog' instead of 'dog bites man' through the
same head without a mask: the output rows come out in the new order but their values are the same, so the
set of outputs is identical and the two sentences cannot be told apart. A causal mask changes that, because
each token now sees only its predecessors; this alone lets a decoder with no positional scheme at all
(NoPE) learn positions (Haviv et al. 2022, Kazemnejad et al. 2023), which is why NoPE is in the lab.

Positions can enter in two ways. Absolute schemes add a vector per position to the input: the sinusoidal
table of Vaswani et al. (sin and cos at frequencies ω_i = 10000^(-2i/d)) or a learned one. Relative schemes
add a bias to the score that depends only on the offset i - j: T5 learns one scalar per bucket of offsets
(exact for small offsets, logarithmic up to 128), ALiBi subtracts m_h (i - j) with a fixed slope per head.
A grid whose entries depend only on i - j is constant along its diagonals (a Toeplitz matrix), and that is
the test used below: the deviation from constant diagonals is 0 for T5 and ALiBi and clearly not 0 when
sinusoids are added to the same token at every position.
""",
    code=("""
SENTENCE, PERMUTED, PERMUTATION = ${SENTENCE}, ${PERMUTED}, ${PERMUTATION}  # PERMUTED[i] = SENTENCE[PERMUTATION[i]]


def attend(tokens, causal):
    # One head, no positions: ar.sdpa on x W_Q, x W_K, x W_V.
    x = embed(tokens)
    return ar.sdpa((x @ W_Q)[None, None], (x @ W_K)[None, None], (x @ W_V)[None, None], is_causal=causal)[0, 0]


def sorted_rows(t):
    return sorted(tuple(round(v, 12) for v in r) for r in t.tolist())


perm = list(PERMUTATION)
out, out_p = attend(SENTENCE, False), attend(PERMUTED, False)
max_row_difference = float((out_p - out[perm]).abs().max())
same_multiset = sorted_rows(out) == sorted_rows(out_p)
show("no mask: outputs of " + " ".join(SENTENCE), out, SENTENCE)
show("no mask: outputs of " + " ".join(PERMUTED), out_p, PERMUTED)
print("rows only moved:", max_row_difference, "  same set of outputs:", same_multiset)

c_out, c_out_p = attend(SENTENCE, True), attend(PERMUTED, True)
causal_max_row_difference = float((c_out_p - c_out[perm]).abs().max())
causal_equivariant = causal_max_row_difference < 1e-12
print(f"causal mask: rows differ by up to {causal_max_row_difference:.2f}; equivariant: {causal_equivariant}")
""", """
# Sinusoidal embeddings (added to the input): PE[p, 2i] = sin(p w_i), PE[p, 2i+1] = cos(p w_i).
SIN_N, SIN_D = ${SIN_N}, ${SIN_D}
pe = ar.sinusoidal_positions(SIN_N, SIN_D)
omega = 10_000.0 ** (-torch.arange(0, SIN_D, 2, dtype=torch.float64) / SIN_D)
sin_wavelengths = 2 * math.pi / omega
print("w_i          ", [f"{w:.4g}" for w in omega.tolist()])
print("wavelength   ", [f"{w:.4g}" for w in sin_wavelengths.tolist()])

# T5's buckets (bidirectional): one bucket per distance below 8, log-spaced up to 128, one beyond.
T5_BUCKETS, T5_MAX_DISTANCE, T5_TABLE_SEED = ${T5_BUCKETS}, ${T5_MAX_DISTANCE}, ${T5_TABLE_SEED}
dist = torch.arange(0, 161)
past = ar.t5_bucket(-dist, True, T5_BUCKETS, T5_MAX_DISTANCE)     # key - query = -distance
future = ar.t5_bucket(dist, True, T5_BUCKETS, T5_MAX_DISTANCE)
first = {}
for dd, b in zip(dist.tolist(), past.tolist()):
    first.setdefault(b, dd)
first_distance_of_bucket = sorted(first.items())
print("past side, (bucket, first distance):", first_distance_of_bucket)
N = ${SMALL_N}
t5_table = gaussian((T5_BUCKETS, 1), T5_TABLE_SEED)  # untrained: T5 learns one scalar per bucket and head
t5_bias = ar.t5_relative_bias(N, N, t5_table, max_distance=T5_MAX_DISTANCE)[0]
bucket_grid = ar.t5_relative_buckets(N, N, T5_BUCKETS, T5_MAX_DISTANCE)

# ALiBi: bias[h, i, j] = -m_h (i - j), slopes m_h = 2^(-8h/H).
ALIBI_HEADS = ${ALIBI_HEADS}
slopes, slopes_12 = ar.alibi_slopes(ALIBI_HEADS), ar.alibi_slopes(12)
alibi = ar.alibi_bias(ALIBI_HEADS, N, N)
print("ALiBi slopes, H = 8: 1 /", [round(x) for x in (1.0 / slopes).tolist()])
print("ALiBi slopes, H = 12:", [f"{x:.4f}" for x in slopes_12.tolist()])

fig, ax = plt.subplots(figsize=(6, 4))
ax.imshow(pe, cmap="RdBu", aspect="auto")
ax.set_xlabel("dimension")
ax.set_ylabel("position")
ax.set_title(f"ar.sinusoidal_positions({SIN_N}, {SIN_D})")
plt.show()
""", """
# The Toeplitz test: the same token at every position, so only the positions differ.
FIXED_TOKEN = ${FIXED_TOKEN}
x = embed([FIXED_TOKEN] * N) + ar.sinusoidal_positions(N, EMBED_DIM)
sin_scores = (x @ W_Q) @ (x @ W_K).T / math.sqrt(x.shape[-1])
alibi_head1 = alibi[0]
grids = {"sinusoidal (added)": sin_scores, "T5 bias": t5_bias, "ALiBi bias, head 1": alibi_head1}
deviations = [toeplitz_deviation(g) for g in grids.values()]
for name, dev in zip(grids, deviations):
    print(f"{name:20s} deviation from constant diagonals: {dev:.3g}")
spread = {o: float(torch.diagonal(sin_scores, o).max() - torch.diagonal(sin_scores, o).min())
          for o in range(-(N - 1), N)}
widest_offset = max(spread, key=spread.get)
print("the sinusoidal scores spread most along j - i =", widest_offset)

fig, axes = plt.subplots(1, 3, figsize=(11, 3.5))
for ax, (name, g) in zip(axes, grids.items()):
    ax.imshow(g, cmap="viridis")
    ax.set_title(name)
    ax.set_xlabel("key j")
axes[0].set_ylabel("query i")
plt.show()

report("L03.1", outputs=out, permuted_outputs=out_p, max_row_difference=max_row_difference,
       same_multiset=same_multiset, causal_max_row_difference=causal_max_row_difference,
       causal_equivariant=causal_equivariant,
       sin_table=pe, omega=omega, sin_wavelengths=sin_wavelengths,
       t5_exact=T5_BUCKETS // 4, past_bucket=past, future_bucket=future,
       first_distance_of_bucket=first_distance_of_bucket, bucket_grid=bucket_grid, t5_bias=t5_bias,
       slopes=slopes, slopes_12=slopes_12, alibi_bias=alibi, slope_inverses=1.0 / slopes,
       sinusoidal_scores=sin_scores, sinusoidal_deviation=deviations[0], t5_deviation=deviations[1],
       alibi_deviation=deviations[2], widest_offset=widest_offset,
       relative=[(name, dev < 1e-12) for name, dev in zip(("sinusoidal", "T5", "ALiBi"), deviations)])
"""),
    try_this="""
# Try this: a one-directional T5 (a decoder's) and a symmetric ALiBi. Are their grids still Toeplitz?
print(toeplitz_deviation(ar.t5_relative_bias(N, N, t5_table, bidirectional=False)[0].to(torch.float64)))
print(toeplitz_deviation(ar.alibi_bias(ALIBI_HEADS, N, N, symmetric=True)[0]))
""",
    checks={
        "outputs": "permutation_equivariance.outputs", "permuted_outputs": "permutation_equivariance.permuted_outputs",
        "max_row_difference": "permutation_equivariance.max_row_difference",
        "same_multiset": "permutation_equivariance.same_multiset",
        "causal_max_row_difference": "permutation_equivariance.causal_max_row_difference",
        "causal_equivariant": "permutation_equivariance.causal_equivariant",
        "sin_table": "sinusoidal_table.table", "omega": "sinusoidal_table.omega",
        "sin_wavelengths": "sinusoidal_table.wavelengths",
        "t5_exact": "t5_buckets.exact", "past_bucket": "t5_buckets.past_bucket",
        "future_bucket": "t5_buckets.future_bucket", "first_distance_of_bucket": "t5_buckets.first_distance_of_bucket",
        "bucket_grid": "t5_buckets.bucket_grid", "t5_bias": "t5_buckets.bias_grid",
        "slopes": "alibi_grid.slopes", "slopes_12": "alibi_grid.slopes_12", "alibi_bias": "alibi_grid.bias",
        "slope_inverses": "alibi_grid.slope_inverses",
        "sinusoidal_scores": "diagonal_structure.sinusoidal_scores",
        "sinusoidal_deviation": "diagonal_structure.sinusoidal_deviation",
        "t5_deviation": "diagonal_structure.t5_deviation", "alibi_deviation": "diagonal_structure.alibi_deviation",
        "widest_offset": "diagonal_structure.widest_offset", "relative": "diagonal_structure.relative",
    },
)

L03_2 = TopicCells(
    topic="L03.2",
    explanation="""
RoPE puts the position into q and k themselves, by rotation. In one plane, the query at position m is turned
by the angle mθ and the key at position n by nθ. Their dot product depends only on the angle between the
two arrows, which is the content's own angle plus (n - m)θ: shift both positions by the same t and both
arrows turn by tθ, the angle between them stays, and so does the score. Below this is checked with
`ar.apply_rope` for eight shifts, in one plane and again at d = 128.

A head of width d holds d/2 independent planes, plane i turning θ_i = b^(-2i/d) radians per token. With
b = 10^4 and d = 128 the fastest plane turns one radian per token (a full turn every 2π ≈ 6.28 tokens) and
the slowest needs about 54,410 tokens for a turn. For fixed content q and k placed at every pair of
positions (m, n), the RoPE score grid is therefore constant along its diagonals up to rounding, while the
same content with added sinusoidal embeddings is not.

RoFormer's "long-term decay" is a property of an upper bound: B(r) shrinks with the distance r, and the
real score of random q, k stays below the scaled bound, but it oscillates rather than decays; only a
special content (q = k = all ones) actually decays. Finally, a rotation keeps lengths: RoPE rotates q and k
after the projection, never v, and every norm is unchanged.
""",
    code=("""
Q2D, K2D, THETA_2D, M_2D, N_2D = ${Q2D}, ${K2D}, ${THETA_2D}, ${M_2D}, ${N_2D}
SHIFTS = ${SHIFTS}
q2, k2 = torch.tensor(Q2D, dtype=torch.float64), torch.tensor(K2D, dtype=torch.float64)
inv_2d = torch.tensor([THETA_2D], dtype=torch.float64)  # one plane, 0.5 radian per token
qs = rotate(q2, [M_2D + t for t in SHIFTS], inv_2d)
ks = rotate(k2, [N_2D + t for t in SHIFTS], inv_2d)
dots = (qs * ks).sum(-1)


def angle(v):
    return math.atan2(float(v[1]), float(v[0]))


angle_between = [math.remainder(angle(b) - angle(a), 2 * math.pi) for a, b in zip(qs, ks)]
for t, a, dt in zip(SHIFTS, angle_between, dots.tolist()):
    print(f"t = {t:3d}: q at {M_2D + t:3d}, k at {N_2D + t:3d}, angle q->k {a:.4f} rad, q.k = {dt:.4f}")

WIDE_SEED = ${WIDE_SEED}
wide_q, wide_k = gaussian((2, HEAD_DIM), WIDE_SEED)
inv, _ = ar.rope_frequencies(HEAD_DIM, BASE)
wide_dots = (rotate(wide_q, [M_2D + t for t in SHIFTS], inv) * rotate(wide_k, [N_2D + t for t in SHIFTS], inv)).sum(-1)
print(f"d = {HEAD_DIM}: q.k under the shifts spreads by {float(wide_dots.max() - wide_dots.min()):.1e}")

fig, ax = plt.subplots(figsize=(4, 4))
for s, colour in ((0, "C0"), (3, "C1")):  # t = 0 and t = 3
    for v, name in ((qs[s], "q"), (ks[s], "k")):
        ax.arrow(0, 0, *v.tolist(), color=colour, head_width=0.05, length_includes_head=True)
        ax.annotate(f"{name}, t = {SHIFTS[s]}", v.tolist(), color=colour)
ax.set_xlim(-1.5, 1.5)
ax.set_ylim(-1.5, 1.5)
ax.set_aspect("equal")
ax.set_title("both arrows turn by t θ; the angle between stays")
plt.show()
""", """
# The d/2 planes of a d = 128 head, base 10^4: theta_i = b^(-2i/d), wavelength 2 pi / theta_i.
theta = inv
lam = 2 * math.pi / theta
print(f"fastest plane: {theta[0]:.0f} rad/token, wavelength {lam[0]:.2f} tokens; "
      f"slowest: {theta[-1]:.3g} rad/token, wavelength {lam[-1]:,.0f} tokens")
DIAL_PLANES, DIAL_POSITIONS, DIAL_GAP = ${DIAL_PLANES}, ${DIAL_POSITIONS}, ${DIAL_GAP}


def dial(p):
    # The angle of the dial planes at position p, modulo one turn.
    return [math.fmod(p * float(theta[i]), 2 * math.pi) for i in DIAL_PLANES]


dial_angles = [dial(p) for p in DIAL_POSITIONS]
dial_k_angles = [dial(p + DIAL_GAP) for p in DIAL_POSITIONS]
show(f"q hand angles (rad) of planes {list(DIAL_PLANES)}", dial_angles, [str(p) for p in DIAL_POSITIONS])

fig, ax = plt.subplots(figsize=(6, 3))
ax.semilogy(lam.tolist())
ax.set_xlabel("plane i (0-based)")
ax.set_ylabel("wavelength (tokens)")
ax.set_title("d = 128, base 10^4")
plt.show()
""", """
# The (m, n) score grid for fixed content: RoPE against added sinusoids.
inv_grid, _ = ar.rope_frequencies(GRID_DIM, BASE)
pos = list(range(GRID_N))
rope_scores = rotate(q_content, pos, inv_grid) @ rotate(k_content, pos, inv_grid).T
pe_grid = ar.sinusoidal_positions(GRID_N, GRID_DIM)
added_scores = (q_content + pe_grid) @ (k_content + pe_grid).T
rope_by_offset = [float(torch.diagonal(rope_scores, o)[0]) for o in range(-(GRID_N - 1), GRID_N)]
rope_dev, added_dev = toeplitz_deviation(rope_scores), toeplitz_deviation(added_scores)
print(f"deviation from constant diagonals: RoPE {rope_dev:.1e}, added sinusoids {added_dev:.2f}")
fig, axes = plt.subplots(1, 2, figsize=(8, 3.5))
for ax, g, name in ((axes[0], rope_scores, "RoPE"), (axes[1], added_scores, "added sinusoids")):
    ax.imshow(g, cmap="viridis")
    ax.set_title(name)
    ax.set_xlabel("key position n")
axes[0].set_ylabel("query position m")
plt.show()
""", """
# RoFormer's decay bound against real scores (interleaved pairs, d = 128).
DECAY_MAX, NEAR, FAR = ${DECAY_MAX}, ${NEAR}, ${FAR}
r = torch.arange(0, DECAY_MAX + 1)
bound = ar.rope_decay_bound(r, HEAD_DIM, BASE)
zeros = [0] * len(r)
score = (rotate(wide_q, r.tolist(), inv, "interleaved") * rotate(wide_k, zeros, inv, "interleaved")).sum(-1)
hq = torch.complex(wide_q[0::2], wide_q[1::2])          # each plane as one complex number
hk = torch.complex(wide_k[0::2], wide_k[1::2])
h = torch.cat([hq * hk.conj(), torch.zeros(1, dtype=torch.complex128)])
scale = float((h[1:] - h[:-1]).abs().max()) * HEAD_DIM / 2  # Abel summation: |score| <= scale B(r)
bound_holds = bool((score.abs() <= scale * bound + 1e-9).all())
ones = torch.ones(HEAD_DIM, dtype=torch.float64)
const = (rotate(ones, r.tolist(), inv, "interleaved") * rotate(ones, zeros, inv, "interleaved")).sum(-1)


def far_over_near(s):
    return float(s[FAR:].abs().max() / s[:NEAR + 1].abs().max())


print(f"B(0) = {float(bound[0])}; the bound holds at every r: {bound_holds}")
print(f"max |score| far (r >= {FAR}) / near (r <= {NEAR}): random q, k {far_over_near(score):.2f}, "
      f"all-ones q = k {far_over_near(const):.3f}")
fig, ax = plt.subplots(figsize=(7, 3.5))
for s, label in ((bound, "bound B(r)"), (score, "random q, k"), (const, "q = k = all ones")):
    ax.plot(r.tolist(), (s / s[:NEAR + 1].abs().max()).tolist(), label=label, lw=1)
ax.set_xlabel("relative distance r")
ax.set_ylabel("relative to its max over r <= 64")
ax.legend()
ax.set_title("the bound decays; a random score does not")
plt.show()
""", """
# Rotations keep norms; q and k are rotated, v never.
norm_positions = (0, 1, 5, 100, 10_000)
after = [tuple(float(v) for v in rotate(x, norm_positions, inv_grid).norm(dim=-1)) for x in (q_content, k_content)]
before = (float(q_content.norm()), float(k_content.norm()))
max_norm_change = max(abs(a - b) for b, row in zip(before, after) for a in row)
print(f"|q| = {before[0]:.4f}, |k| = {before[1]:.4f}; largest change over positions {norm_positions}: "
      f"{max_norm_change:.1e}")

report("L03.2", q_rotated=qs, k_rotated=ks, angle_between=angle_between, dots=dots,
       max_dot_spread=float(dots.max() - dots.min()), wide_dots=wide_dots,
       wide_max_spread=float(wide_dots.max() - wide_dots.min()),
       theta=theta, wavelength=lam, fastest_wavelength=float(lam[0]), slowest_wavelength=float(lam[-1]),
       slowest_theta=float(theta[-1]), dial_angles=dial_angles, dial_k_angles=dial_k_angles,
       grid_q=q_content, grid_k=k_content, rope_scores=rope_scores, sinusoidal_scores=added_scores,
       rope_deviation=rope_dev, sinusoidal_deviation=added_dev, rope_by_offset=rope_by_offset,
       bound=bound, bound_at_zero=float(bound[0]), random_score=score, random_score_bound=scale * bound,
       bound_holds=bound_holds, constant_score=const, random_far_over_near=far_over_near(score),
       constant_far_over_near=far_over_near(const), norms_before=before, norms_after=list(zip(*after)),
       max_norm_change=max_norm_change)
"""),
    try_this="""
# Try this: shift both positions by a large t and take the dot product in float32. How far does it drift?
for t in (10, 1_000, 100_000):
    q32 = rotate(wide_q, [M_2D + t], inv)[0].float()
    k32 = rotate(wide_k, [N_2D + t], inv)[0].float()
    print(t, float(q32 @ k32) - float(wide_dots[0]))
""",
    checks={
        "q_rotated": "shift_invariance.q_rotated", "k_rotated": "shift_invariance.k_rotated",
        "angle_between": "shift_invariance.angle_between", "dots": "shift_invariance.dots",
        "max_dot_spread": "shift_invariance.max_dot_spread", "wide_dots": "shift_invariance.wide_dots",
        "wide_max_spread": "shift_invariance.wide_max_spread",
        "theta": "planes.theta", "wavelength": "planes.wavelength", "fastest_wavelength": "planes.fastest_wavelength",
        "slowest_wavelength": "planes.slowest_wavelength", "slowest_theta": "planes.slowest_theta",
        "dial_angles": "planes.dial_angles", "dial_k_angles": "planes.dial_k_angles",
        "grid_q": "score_grids.q", "grid_k": "score_grids.k", "rope_scores": "score_grids.rope_scores",
        "sinusoidal_scores": "score_grids.sinusoidal_scores", "rope_deviation": "score_grids.rope_deviation",
        "sinusoidal_deviation": "score_grids.sinusoidal_deviation", "rope_by_offset": "score_grids.rope_by_offset",
        "bound": "decay.bound", "bound_at_zero": "decay.bound_at_zero", "random_score": "decay.random_score",
        "random_score_bound": "decay.random_score_bound", "bound_holds": "decay.bound_holds",
        "constant_score": "decay.constant_score", "random_far_over_near": "decay.random_far_over_near",
        "constant_far_over_near": "decay.constant_far_over_near",
        "norms_before": "norms.norms_before", "norms_after": "norms.norms_after",
        "max_norm_change": "norms.max_norm_change",
    },
)

L03_3 = TopicCells(
    topic="L03.3",
    explanation="""
Which two channels form a plane is a convention, and there are two in use. The `half` layout (GPT-NeoX,
Hugging Face's `rotate_half`) pairs channel i with channel i + d/2; the `interleaved` layout (GPT-J, Meta's
Llama code, RoFormer, DeepSeek) pairs 2i with 2i + 1. Both are the same rotation stored differently: a fixed
permutation P (for d = 8, P = (0 2 4 6 1 3 5 7)) moves one layout to the other, and rope_half(P x) equals
P rope_interleaved(x). Converting checkpoints between the two means permuting the rows of W_Q and W_K.

Get it wrong and nothing complains. A head designed to attend to the previous token (k = R_1 q, interleaved)
run with the half pairing still produces a smooth attention map, but its peak moves away from the previous
token; if q and k use the same wrong pairing the grid is still Toeplitz (a valid RoPE with shuffled
frequencies), and if they disagree it is not even that. A second quiet failure is precision: bf16 has 8
significant bits, so integers above 256 are not all representable and angles p·θ computed in bf16 at
positions in the thousands are off by whole radians in the fastest plane.

Two more details: GPT-NeoX rotates only a fraction of each head (rotary_pct 0.25: 24 of 96 channels) and
passes the rest through; and since a key's rotation depends only on its own position, a KV cache can store
keys already rotated. Under left padding, positions come from the mask, cumsum(mask) - 1 (Lecture 5).
""",
    code=("""
PAIR_DIM, PAIR_SEED = ${PAIR_DIM}, ${PAIR_SEED}
d = PAIR_DIM
half_pairs = [(i, i + d // 2) for i in range(d // 2)]
interleaved_pairs = [(2 * i, 2 * i + 1) for i in range(d // 2)]
P = ar.rope_permutation(d)  # interleaved layout -> half layout
x8 = gaussian((d,), PAIR_SEED)
inv8, _ = ar.rope_frequencies(d, BASE)
position = 3
half_of_px = rotate(x8[P], [position], inv8, "half")[0]
p_of_interleaved = rotate(x8, [position], inv8, "interleaved")[0][P]
print("half pairs", half_pairs, " interleaved pairs", interleaved_pairs, " P =", P.tolist())
show("rope_half(P x)", half_of_px)
show("P rope_interleaved(x)", p_of_interleaved)
print("largest difference:", float((half_of_px - p_of_interleaved).abs().max()))
""", """
# The wrong pairing: a previous-token head designed for interleaved pairs, run with half pairs.
PIT_DIM, PIT_N, PIT_SEED, PIT_SHARPNESS = ${PIT_DIM}, ${PIT_N}, ${PIT_SEED}, ${PIT_SHARPNESS}
inv16, _ = ar.rope_frequencies(PIT_DIM, BASE)
q_pit = gaussian((PIT_DIM,), PIT_SEED).abs() * PIT_SHARPNESS
k_pit = rotate(q_pit, [1], inv16, "interleaved")[0]  # k = R_1 q: the score peaks at n - m = -1


def maps(pq, pk):
    # Scores and causal attention weights with q rotated by pairing pq and k by pairing pk.
    pos = list(range(PIT_N))
    q_r, k_r = rotate(q_pit, pos, inv16, pq), rotate(k_pit, pos, inv16, pk)
    scores = q_r @ k_r.T / PIT_DIM ** 0.5
    _, p = ar.sdpa(q_r[None, None], k_r[None, None], k_r[None, None], is_causal=True, return_weights=True)
    p = p[0, 0]
    prev = float(torch.stack([p[i, i - 1] for i in range(1, PIT_N)]).mean())
    return scores, p, prev


def peak_offset(p):
    offsets = [int(p[i].argmax()) - i for i in range(2, p.shape[0])]
    return max(set(offsets), key=offsets.count)


s_c, p_c, prev_c = maps("interleaved", "interleaved")  # as designed
s_w, p_w, prev_w = maps("half", "half")                # the wrong pairing for both
s_m, p_m, prev_m = maps("half", "interleaved")         # q and k disagree
for name, p, prev, s in (("correct", p_c, prev_c, s_c), ("wrong", p_w, prev_w, s_w), ("mixed", p_m, prev_m, s_m)):
    print(f"{name:8s} weight on the previous token {prev:.2f}, peak at offset {peak_offset(p)}, "
          f"Toeplitz deviation {toeplitz_deviation(s):.2g}")
fig, axes = plt.subplots(1, 3, figsize=(11, 3.5))
for ax, p, name in zip(axes, (p_c, p_w, p_m), ("interleaved (as designed)", "half (wrong)", "q half, k interleaved")):
    ax.imshow(p, cmap="viridis", vmin=0, vmax=1)
    ax.set_title(name)
    ax.set_xlabel("key")
axes[0].set_ylabel("query")
plt.show()
""", """
# Angles in bf16 (8 significant bits) against float64.
BF16_POSITIONS = ${BF16_POSITIONS}


def bf16_angle(p, inv_freq):
    # The angle as a bf16 autocast computes it: position and inv_freq in bf16, product rounded to bf16.
    return (p.to(torch.bfloat16)[:, None] * inv_freq.to(torch.bfloat16)[None, :]).to(torch.float64)


spacing, exact, err_at, err_near, worst, worst_plane = [], [], [], [], [], []
for p in BF16_POSITIONS:
    pt = torch.tensor([float(p)], dtype=torch.float64)
    pb = pt.to(torch.bfloat16)
    sp = float(torch.nextafter(pb, torch.tensor([1e9], dtype=torch.bfloat16)).double() - pb.double())
    spacing.append(sp)
    exact.append(float(pb.double()) == p)
    err = (bf16_angle(pt, inv) - pt[:, None] * inv[None, :]).abs()[0]
    err_at.append(float(err[0]))
    worst.append(float(err.max()))
    worst_plane.append(int(err.argmax()))
    run = torch.arange(p, p + int(sp), dtype=torch.float64)
    err_near.append(float((bf16_angle(run, inv)[:, 0] - run).abs().max()))
    print(f"position {p}: bf16 spacing {sp:.0f}, fastest-plane error up to {err_near[-1]:.0f} rad "
          f"just after it; worst plane at p itself: {worst_plane[-1]} ({worst[-1]:.3f} rad)")
ints = torch.arange(0, 1025, dtype=torch.float64)
ok = ints.to(torch.bfloat16).double() == ints
largest_exact_run = int((~ok).nonzero()[0]) - 1
significant_bits = 1 - int(math.log2(torch.finfo(torch.bfloat16).eps))
near_positions = torch.arange(BF16_POSITIONS[0], BF16_POSITIONS[0] + 2 * int(spacing[0]) + 1)
near_in_bf16 = near_positions.to(torch.float64).to(torch.bfloat16).double()
print(f"every integer up to {largest_exact_run} is exact in bf16 ({significant_bits} significant bits);",
      dict(zip(near_positions.tolist(), near_in_bf16.tolist())))
""", """
# Partial rotary (GPT-NeoX-20B: head_dim 96, rotary_pct 0.25) and keys cached already rotated.
PARTIAL_HEAD_DIM, PARTIAL_PCT = ${PARTIAL_HEAD_DIM}, ${PARTIAL_PCT}
rot = int(PARTIAL_HEAD_DIM * PARTIAL_PCT)
inv_rot, _ = ar.rope_frequencies(rot, BASE)
x96 = gaussian((PARTIAL_HEAD_DIM,), PAIR_SEED + 1)
y96 = rotate(x96, [7], inv_rot)[0]  # apply_rope rotates the first 2 * len(inv_rot) channels only
passthrough_unchanged = bool(torch.equal(y96[rot:], x96[rot:]))
rotated_changed = bool((y96[:rot] != x96[:rot]).any())
print(f"{rot} of {PARTIAL_HEAD_DIM} channels rotated; the other {PARTIAL_HEAD_DIM - rot} unchanged: "
      f"{passthrough_unchanged}")

g = gaussian((2, 6, PAIR_DIM), PAIR_SEED + 2)
q_steps, k_steps = g[0], g[1]
cache, worst_cache = [], 0.0
for t in range(len(k_steps)):
    cache.append(rotate(k_steps[t], [t], inv8)[0])                                   # written once
    cached = torch.stack(cache)
    fresh = torch.stack([rotate(k_steps[j], [j], inv8)[0] for j in range(t + 1)])  # recomputed
    q_t = rotate(q_steps[t], [t], inv8)[0]
    worst_cache = max(worst_cache, float((cached @ q_t - fresh @ q_t).abs().max()))
print("cached rotated keys vs recomputed, largest score difference:", worst_cache)

PAD_MASK = ${PAD_MASK}
mask = torch.tensor(PAD_MASK)
pos_mask = (mask.cumsum(0) - 1).masked_fill(mask == 0, 1)  # pads get 1, as Hugging Face does
naive = torch.arange(len(PAD_MASK))
real = mask.bool()
xp = g[0][: len(PAD_MASK)]
s_mask = rotate(xp[0], pos_mask[real].tolist(), inv8) @ rotate(xp[1], pos_mask[real].tolist(), inv8).T
s_naive = rotate(xp[0], naive[real].tolist(), inv8) @ rotate(xp[1], naive[real].tolist(), inv8).T
scores_equal = bool(torch.allclose(s_mask, s_naive, atol=1e-12, rtol=0))
print("mask", PAD_MASK, "positions", pos_mask.tolist(), "naive", naive.tolist(),
      "; RoPE scores among real tokens equal:", scores_equal)

report("L03.3", half_pairs=half_pairs, interleaved_pairs=interleaved_pairs, permutation=P, x=x8,
       half_of_px=half_of_px, p_of_interleaved=p_of_interleaved,
       pairing_max_difference=float((half_of_px - p_of_interleaved).abs().max()),
       correct_map=p_c, wrong_map=p_w, mixed_map=p_m, correct_prev_mass=prev_c, wrong_prev_mass=prev_w,
       mixed_prev_mass=prev_m, max_map_difference=float((p_w - p_c).abs().max()),
       correct_peak_offset=peak_offset(p_c), wrong_peak_offset=peak_offset(p_w),
       correct_deviation=toeplitz_deviation(s_c), wrong_deviation=toeplitz_deviation(s_w),
       mixed_deviation=toeplitz_deviation(s_m), raised=False,
       bf16_spacing=spacing, exact_in_bf16=exact, fastest_error_at=err_at, fastest_max_error_near=err_near,
       worst_plane_error_at=worst, worst_plane=worst_plane, largest_exact_integer_run=largest_exact_run,
       significant_bits=significant_bits, near_positions=near_positions, near_in_bf16=near_in_bf16,
       rotary_dim=rot, passthrough_dim=PARTIAL_HEAD_DIM - rot, passthrough_unchanged=passthrough_unchanged,
       rotated_changed=rotated_changed, cached_key_max_difference=worst_cache, positions_from_mask=pos_mask,
       naive_positions=naive, rope_scores_equal_under_shift=scores_equal)
"""),
    try_this="""
# Try this: convert the designed head to the half layout (permute q and k with P). Is the map back?
qh, kh = q_pit[ar.rope_permutation(PIT_DIM)], k_pit[ar.rope_permutation(PIT_DIM)]
pos = list(range(PIT_N))
_, p_half = ar.sdpa(rotate(qh, pos, inv16, "half")[None, None], rotate(kh, pos, inv16, "half")[None, None],
                    rotate(kh, pos, inv16, "half")[None, None], is_causal=True, return_weights=True)
print("largest difference from the designed map:", float((p_half[0, 0] - p_c).abs().max()))
""",
    checks={
        "half_pairs": "pairings.half_pairs", "interleaved_pairs": "pairings.interleaved_pairs",
        "permutation": "pairings.permutation", "x": "pairings.x", "half_of_px": "pairings.half_of_px",
        "p_of_interleaved": "pairings.p_of_interleaved", "pairing_max_difference": "pairings.max_difference",
        "correct_map": "wrong_pairing.correct_map", "wrong_map": "wrong_pairing.wrong_map",
        "mixed_map": "wrong_pairing.mixed_map", "correct_prev_mass": "wrong_pairing.correct_prev_mass",
        "wrong_prev_mass": "wrong_pairing.wrong_prev_mass", "mixed_prev_mass": "wrong_pairing.mixed_prev_mass",
        "max_map_difference": "wrong_pairing.max_map_difference",
        "correct_peak_offset": "wrong_pairing.correct_peak_offset",
        "wrong_peak_offset": "wrong_pairing.wrong_peak_offset", "correct_deviation": "wrong_pairing.correct_deviation",
        "wrong_deviation": "wrong_pairing.wrong_deviation", "mixed_deviation": "wrong_pairing.mixed_deviation",
        "raised": "wrong_pairing.raised",
        "bf16_spacing": "bf16_angles.spacing", "exact_in_bf16": "bf16_angles.exact_in_bf16",
        "fastest_error_at": "bf16_angles.fastest_error_at",
        "fastest_max_error_near": "bf16_angles.fastest_max_error_near",
        "worst_plane_error_at": "bf16_angles.worst_plane_error_at", "worst_plane": "bf16_angles.worst_plane",
        "largest_exact_integer_run": "bf16_angles.largest_exact_integer_run",
        "significant_bits": "bf16_angles.significant_bits", "near_positions": "bf16_angles.near_positions",
        "near_in_bf16": "bf16_angles.near_in_bf16",
        "rotary_dim": "partial_rotary.rotary_dim", "passthrough_dim": "partial_rotary.passthrough_dim",
        "passthrough_unchanged": "partial_rotary.passthrough_unchanged",
        "rotated_changed": "partial_rotary.rotated_changed",
        "cached_key_max_difference": "cached_keys.max_score_difference",
        "positions_from_mask": "cached_keys.positions_from_mask", "naive_positions": "cached_keys.naive_positions",
        "rope_scores_equal_under_shift": "cached_keys.rope_scores_equal_under_shift",
    },
)

L03_4 = TopicCells(
    topic="L03.4",
    explanation="""
Set side by side, the schemes differ in where the position enters and what that costs. Added embeddings
(sinusoidal or learned) are absolute, and a learned table adds max_len × d_model parameters. T5 and ALiBi
are relative but put an (H, n, n) bias inside the attention kernel. RoPE is relative (its grid for fixed
content is Toeplitz, as in L03.2), has no parameters and no bias matrix: it only rotates q and k, so fused
kernels run unchanged, and keys cached once rotated stay valid as tokens are appended. NoPE has no position
scheme; its only source of order is the causal mask. Each "relative?" cell below is the Toeplitz test run
on this lecture's toy inputs (NoPE passes it trivially, having no positions, so it is marked not relative),
and each parameter count is for the lab's model size.

Whether a model uses far context is a different question from whether its loss stays low there. The lab's
experiment 2 trains tiny 2-layer models (d_model 64) at 64 tokens with each scheme and asks them to retrieve
a needle at 1×, 2× and 4× that length; RoPE + PI and RoPE + YaRN are the same trained RoPE model evaluated
with a scaling factor of length / 64, without fine-tuning. The numbers are read from the committed result
file; compare which schemes keep their accuracy at 4× and which lose it, and how the loss behaves past
position 64. ALiBi's published result (Press et al.) is quoted, not recomputed: a 1.3B model trained on 1,024
tokens matches the perplexity of a sinusoidal model trained on 2,048, which is perplexity, not retrieval.
""",
    code=("""
EXPERIMENT, SCHEMES, LABELS, LOSS_FROM = ${EXPERIMENT}, ${SCHEMES}, ${LABELS}, ${LOSS_FROM}
lab = load_lab(EXPERIMENT)
m = lab["metrics"]
cfg = lab["config"]["model"]
train = m["train_length"]
lab_rows = []
for s in SCHEMES:
    v = m["schemes"][s]
    lp = v["loss_by_position"]  # None where a position is not scored
    inside = [y for y in lp[LOSS_FROM:train] if y is not None]
    beyond = [y for y in lp[train:] if y is not None]
    lab_rows.append({"scheme": s, "accuracy": v["accuracy"], "accuracy_by_length": v["accuracy_by_length"],
                     "multi": m["multi_needle"]["schemes"][s]["accuracy_by_length"], "loss_by_position": lp,
                     "inside": sum(inside) / len(inside), "beyond": sum(beyond) / len(beyond),
                     "n_params": m["train"][v["model"]]["n_params"]})
print(f"trained at {train} tokens; needle accuracy at lengths {m['lengths']}")
for row in lab_rows:
    print(f"{LABELS[row['scheme']]:17s} needle {[f'{a:.2f}' for a in row['accuracy_by_length']]}  "
          f"8 needles {[f'{a:.2f}' for a in row['multi']]}  loss inside {row['inside']:.2f}, "
          f"beyond {row['beyond']:.2f}")
print(lab_source(lab))

fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.5))
for row in lab_rows:
    a.plot(m["lengths"], row["accuracy_by_length"], "o-", label=LABELS[row["scheme"]])
    lp = row["loss_by_position"]
    b.plot([i for i, y in enumerate(lp) if y is not None], [y for y in lp if y is not None], lw=1)
a.set_xscale("log", base=2)
a.set_xlabel("sequence length")
a.set_ylabel("needle accuracy")
a.legend(fontsize=7)
b.axvline(train, color="gray", ls=":")
b.set_xlabel("position")
b.set_ylabel("filler loss")
fig.suptitle("lab experiment 2 (own tiny models)")
plt.show()
""", """
# The comparison table's computed cells: the Toeplitz test per scheme on the same token at every position.
TABLE_N, TABLE_SEED = ${TABLE_N}, ${TABLE_SEED}


def scheme_grid(scheme):
    # (n, n) scores (or scores plus bias) of the same token at every position under `scheme`.
    x = embed(["dog"] * TABLE_N)
    d = x.shape[-1]
    if scheme in ("sinusoidal", "learned"):
        p = ar.sinusoidal_positions(TABLE_N, d) if scheme == "sinusoidal" else gaussian((TABLE_N, d), TABLE_SEED)
        x = x + p
        return (x @ W_Q) @ (x @ W_K).T / math.sqrt(d)
    q, k = x @ W_Q, x @ W_K
    if scheme == "rope":
        inv_d, _ = ar.rope_frequencies(d, BASE)
        pos = list(range(TABLE_N))
        return torch.stack([rotate(q[i], [i], inv_d)[0] for i in pos]) @ torch.stack(
            [rotate(k[j], [j], inv_d)[0] for j in pos]).T / math.sqrt(d)
    s = q @ k.T / math.sqrt(d)
    if scheme == "t5":
        return s + ar.t5_relative_bias(TABLE_N, TABLE_N, gaussian((T5_BUCKETS, 1), TABLE_SEED))[0]
    if scheme == "alibi":
        return s + ar.alibi_bias(1, TABLE_N, TABLE_N)[0]
    return s  # nope


acc_4x = {s: v["accuracy_by_length"][-1] for s, v in m["schemes"].items()}
max_len = lab["config"]["position_overrides"]["learned"]["max_len"]
table = [  # scheme, grid, lab key, extra parameters, bias in the kernel
    ("sinusoidal", "sinusoidal", "sinusoidal", 0, False),
    ("learned absolute", "learned", "learned", max_len * cfg["d_model"], False),
    ("T5 bias", "t5", None, T5_BUCKETS * cfg["n_heads"], True),
    ("ALiBi", "alibi", "alibi", 0, True),
    ("RoPE", "rope", "rope", 0, False),
    ("NoPE", "nope", "nope", 0, False),
]
table_dev = [toeplitz_deviation(scheme_grid(g)) for _, g, _, _, _ in table]
table_relative = [dev < 1e-12 and name != "NoPE" for (name, *_), dev in zip(table, table_dev)]
print(f"{'scheme':17s} {'relative?':>9s} {'deviation':>10s} {'extra params':>12s} {'bias in kernel':>15s} "
      f"{'needle at 4x':>12s}")
for (name, _, key, params, bias), rel, dev in zip(table, table_relative, table_dev):
    a4 = f"{acc_4x[key]:.2f}" if key else "not in lab"
    print(f"{name:17s} {str(rel):>9s} {dev:10.2g} {params:12d} {str(bias):>15s} {a4:>12s}")

report("L03.4", train_length=train, lengths=m["lengths"], depths=m["depths"],
       accuracy=[row["accuracy"] for row in lab_rows],
       accuracy_by_length=[row["accuracy_by_length"] for row in lab_rows],
       multi_accuracy_by_length=[row["multi"] for row in lab_rows],
       loss_by_position=[row["loss_by_position"] for row in lab_rows],
       mean_loss_inside=[row["inside"] for row in lab_rows], mean_loss_beyond=[row["beyond"] for row in lab_rows],
       scheme_params=[row["n_params"] for row in lab_rows], n_params=m["train"]["rope"]["n_params"],
       longest_factor=m["lengths"][-1] / train, loss_factor=lab["config"]["eval"]["loss_length"] / train,
       lab_source=lab_source(lab),
       table_schemes=[t[0] for t in table], table_relative=table_relative, table_deviation=table_dev,
       table_params=[t[3] for t in table], table_bias=[t[4] for t in table],
       table_accuracy=[acc_4x[t[2]] if t[2] else None for t in table])
"""),
    try_this="""
# Try this: where in the haystack does each scheme find the needle at 4x the training length (by depth)?
for row in lab_rows:
    print(f"{LABELS[row['scheme']]:17s}", [f"{a:.2f}" for a in row["accuracy"][-1]], "at depths", m["depths"])
""",
    checks={
        "train_length": "lab_results.train_length", "lengths": "lab_results.lengths", "depths": "lab_results.depths",
        "accuracy": "lab_results.schemes.*.accuracy", "accuracy_by_length": "lab_results.schemes.*.accuracy_by_length",
        "multi_accuracy_by_length": "lab_results.schemes.*.multi_accuracy_by_length",
        "loss_by_position": "lab_results.schemes.*.loss_by_position",
        "mean_loss_inside": "lab_results.schemes.*.mean_loss_inside",
        "mean_loss_beyond": "lab_results.schemes.*.mean_loss_beyond",
        "scheme_params": "lab_results.schemes.*.n_params", "n_params": "lab_results.n_params",
        "longest_factor": "lab_results.longest_factor", "loss_factor": "lab_results.loss_factor",
        "lab_source": "lab_results.source",
        "table_schemes": "comparison_table.rows.*.scheme", "table_relative": "comparison_table.rows.*.relative",
        "table_deviation": "comparison_table.rows.*.toeplitz_deviation",
        "table_params": "comparison_table.rows.*.extra_params", "table_bias": "comparison_table.rows.*.bias_in_kernel",
        "table_accuracy": "comparison_table.rows.*.accuracy_at_4x",
    },
    unchecked={"cited_alibi": "a published result (Press et al. 2021: a 1.3B model trained on 1,024 tokens "
                              "matches a sinusoidal model trained on 2,048 in perplexity), quoted on screen, "
                              "not measured"},
)

L03_5 = TopicCells(
    topic="L03.5",
    explanation="""
Training at length L shows plane i only the angles 0 ... L·θ_i. For L = 4096, d = 128 and b = 10^4 the fast
planes wrap around many times, but the slow planes sweep only part of a circle: run past L and they reach
angles the model never saw. Every context-extension method is a rule for changing θ_i, and all of them
come out of `ar.rope_frequencies(d, base, ar.RopeScaling(kind, factor, L_orig))`:

- PI / linear divides every θ_i by s, which squeezes local resolution too; PI is a fine-tuning method
  (Chen et al.: 1,000 steps), not training-free.
- NTK-aware raises the base to b' = b · s^(d/(d-2)) (82,684.6 for s = 8): the fastest plane is untouched and
  the slowest is divided by exactly s.
- YaRN keeps the planes that wrap many times within L_orig (0-20 here), interpolates the ones that see less
  than a turn (46-63) and blends in between; it also multiplies cos and sin by 0.1 ln s + 1 (1.2773 at
  s = 16), so the logits grow by its square, 1.6314.
- Llama 3.1 (base 5·10^5, s = 8, L_orig 8192) splits by wavelength: below 2048 tokens kept, above 8192
  divided by 8, the 6 planes in between blended.

Raising the base (Llama 3: 5·10^5, Code Llama and Gemma 3's global layers: 10^6) slows the slow planes from
the start. And the pitfalls: dropping YaRN's attention factor shrinks every logit by 1.6314; passing
max_position_embeddings where original_max_position_embeddings belongs moves YaRN's bands; a factor of 1
must give plain RoPE; and a base that follows the current length (dynamic NTK) changes the rotation of keys
that are already in the cache.
""",
    code=("""
TRAIN_LENGTH, FACTOR = ${TRAIN_LENGTH}, ${FACTOR}
plain, _ = ar.rope_frequencies(HEAD_DIM, BASE)
turns = TRAIN_LENGTH * plain / (2 * math.pi)
partial = [i for i, t in enumerate(turns.tolist()) if t < 1]
unseen_at_2x = [i for i in range(len(plain)) if TRAIN_LENGTH * float(plain[i]) < 2 * math.pi]
print(f"L = {TRAIN_LENGTH}: {len(plain) - len(partial)} planes wrap at least once, {len(partial)} see part of a "
      f"turn (from plane {partial[0]}); plane 63 sees {turns[-1]:.3f} of a turn")

curves = {}
for kind, scaling in (("plain", None), ("linear", ar.RopeScaling("linear", FACTOR)),
                      ("ntk", ar.RopeScaling("ntk", FACTOR)), ("yarn", ar.RopeScaling("yarn", FACTOR, TRAIN_LENGTH))):
    curves[kind] = ar.rope_frequencies(HEAD_DIM, BASE, scaling)  # (theta', attention factor)
LLAMA3_FACTOR, LLAMA3_TRAIN = ${LLAMA3_FACTOR}, ${LLAMA3_TRAIN}
plain3, _ = ar.rope_frequencies(HEAD_DIM, LLAMA3_BASE)
llama3_inv, llama3_f = ar.rope_frequencies(HEAD_DIM, LLAMA3_BASE, ar.RopeScaling("llama3", LLAMA3_FACTOR, LLAMA3_TRAIN))

fig, ax = plt.subplots(figsize=(7, 4))
for kind, (th, _) in curves.items():
    ax.semilogy(th.tolist(), label=f"{kind}, base 10^4")
ax.semilogy(plain3.tolist(), "--", label="plain, base 5*10^5")
ax.semilogy(llama3_inv.tolist(), "--", label="llama3, base 5*10^5")
ax.set_xlabel("plane i")
ax.set_ylabel("theta'_i (rad / token)")
ax.legend(fontsize=8)
ax.set_title(f"s = {FACTOR:g}: which planes each method slows")
plt.show()
""", """
# NTK-aware: the new base from theta'_1 = b'^(-2/d).
ntk = curves["ntk"][0]
new_base = float(1.0 / ntk[1]) ** (HEAD_DIM / 2)
ntk_ratios = plain / ntk
print(f"b' = {new_base:,.1f} (b s^(d/(d-2)) = {BASE * FACTOR ** (HEAD_DIM / (HEAD_DIM - 2)):,.1f}); "
      f"theta_0/theta'_0 = {ntk_ratios[0]:.6f}, theta_63/theta'_63 = {ntk_ratios[-1]:.6f}")


def bands(ratio, s):
    # (first, last) plane kept, blended and fully divided by s; (-1, -1) when a band is empty.
    keep = [i for i, x in enumerate(ratio.tolist()) if abs(x - 1) < 1e-12]
    full = [i for i, x in enumerate(ratio.tolist()) if abs(x - s) < 1e-9 * s]
    mid = [i for i in range(len(ratio)) if i not in keep and i not in full]
    span = lambda xs: (xs[0], xs[-1]) if xs else (-1, -1)  # noqa: E731
    return span(keep), span(mid), span(full)


# YaRN at s = 16: the bands, the ramp and the attention factor (which multiplies cos and sin).
YARN_FACTOR, SCALING_SEED = ${YARN_FACTOR}, ${SCALING_SEED}
yarn_inv, yarn_f = ar.rope_frequencies(HEAD_DIM, BASE, ar.RopeScaling("yarn", YARN_FACTOR, TRAIN_LENGTH))
ramp = (1 - yarn_inv / plain) * YARN_FACTOR / (YARN_FACTOR - 1)  # theta' = theta (1 - g + g / s)


def correction_dim(beta):
    # The plane that makes beta turns within TRAIN_LENGTH (before flooring or ceiling).
    return HEAD_DIM * math.log(TRAIN_LENGTH / (2 * math.pi * beta)) / (2 * math.log(BASE))


yarn_bands = bands(plain / yarn_inv, YARN_FACTOR)
w = gaussian((2, HEAD_DIM), SCALING_SEED)
scaled = (rotate(w[0], [5], yarn_inv, attention_factor=yarn_f)
          * rotate(w[1], [2], yarn_inv, attention_factor=yarn_f)).sum()
unscaled = (rotate(w[0], [5], yarn_inv) * rotate(w[1], [2], yarn_inv)).sum()
print(f"YaRN: i_32 = {correction_dim(32):.2f}, i_1 = {correction_dim(1):.2f}; kept, blended, interpolated: "
      f"{yarn_bands}; attention factor {yarn_f:.4f}, logits x {yarn_f ** 2:.4f} (measured "
      f"{float(scaled / unscaled):.4f})")

# Llama 3.1: bands by wavelength.
llama3_sc = ar.RopeScaling("llama3", LLAMA3_FACTOR, LLAMA3_TRAIN, low_freq_factor=1.0, high_freq_factor=4.0)
l3_inv, _ = ar.rope_frequencies(HEAD_DIM, LLAMA3_BASE, llama3_sc)
l3_bands = bands(plain3 / l3_inv, LLAMA3_FACTOR)
l3_counts = [b[1] - b[0] + 1 if b[0] >= 0 else 0 for b in l3_bands]
print(f"Llama 3.1: {l3_counts[0]} planes kept (wavelength < {LLAMA3_TRAIN / 4.0:.0f}), {l3_counts[2]} divided by "
      f"{LLAMA3_FACTOR:g} (> {LLAMA3_TRAIN / 1.0:.0f}), {l3_counts[1]} blended")

# Raising the base: the slowest wavelength.
LONG_BASE = ${LONG_BASE}
bases = (BASE, LLAMA3_BASE, LONG_BASE)
slowest = [float(2 * math.pi / ar.rope_frequencies(HEAD_DIM, b)[0][-1]) for b in bases]
print("slowest wavelength at bases", bases, [f"{x:,.0f}" for x in slowest])
""", """
# The pitfalls, each computed.
with_f = float((rotate(w[0], [9], yarn_inv, attention_factor=yarn_f)
                * rotate(w[1], [3], yarn_inv, attention_factor=yarn_f)).sum())
without_f = float((rotate(w[0], [9], yarn_inv) * rotate(w[1], [3], yarn_inv)).sum())
wrong_L = int(TRAIN_LENGTH * YARN_FACTOR)  # max_position_embeddings passed where the original length belongs
inv_wrong, _ = ar.rope_frequencies(HEAD_DIM, BASE, ar.RopeScaling("yarn", YARN_FACTOR, wrong_L))
print(f"factor dropped: logit {without_f:.4f} instead of {with_f:.4f} (x {without_f / with_f:.4f})")
print(f"YaRN bands with L_orig {TRAIN_LENGTH}: {yarn_bands}; with {wrong_L}: {bands(plain / inv_wrong, YARN_FACTOR)}")
factor_one = []
for kind, L0 in (("linear", None), ("ntk", None), ("dynamic_ntk", TRAIN_LENGTH), ("yarn", TRAIN_LENGTH),
                 ("llama3", LLAMA3_TRAIN)):
    got, _ = ar.rope_frequencies(HEAD_DIM, BASE, ar.RopeScaling(kind, 1.0, L0))
    factor_one.append((kind, float((got - plain).abs().max())))
print("factor 1, largest difference from plain RoPE:", factor_one)
dyn = ar.Rope(HEAD_DIM, BASE, ar.RopeScaling("dynamic_ntk", 4.0, TRAIN_LENGTH))
key = w[1].expand(1, 1, 1, HEAD_DIM).clone()
cached = dyn(key, torch.tensor([1000]), max_position=TRAIN_LENGTH)      # rotated when the cache held 4096
later = dyn(key, torch.tensor([1000]), max_position=4 * TRAIN_LENGTH)   # what the base says at 16,384
print("dynamic NTK: the same key at position 1000, cached vs re-rotated later:",
      f"{float((cached - later).abs().max()):.3f}")

report("L03.5", turns=turns, seen_fraction=turns.clamp(max=1), planes_full_turn=len(plain) - len(partial),
       planes_partial=len(partial), first_partial_plane=partial[0], unseen_at_2x=unseen_at_2x,
       curve_theta=[th for th, _ in curves.values()], curve_ratio=[plain / th for th, _ in curves.values()],
       curve_attention_factor=[f for _, f in curves.values()],
       llama3_theta=[plain3, llama3_inv], llama3_ratio=[plain3 / plain3, plain3 / llama3_inv],
       llama3_attention_factor=[1.0, llama3_f],
       ntk_new_base=new_base, ntk_exponent=HEAD_DIM / (HEAD_DIM - 2), ntk_highest_ratio=float(ntk_ratios[0]),
       ntk_lowest_ratio=float(ntk_ratios[-1]), ntk_ratios=ntk_ratios,
       yarn_correction_low=correction_dim(32), yarn_correction_high=correction_dim(1),
       yarn_low=math.floor(correction_dim(32)), yarn_high=math.ceil(correction_dim(1)), yarn_ramp=ramp,
       yarn_unchanged=yarn_bands[0], yarn_blended=yarn_bands[1], yarn_interpolated=yarn_bands[2],
       yarn_attention_factor=yarn_f, yarn_logit_scale=yarn_f * yarn_f,
       yarn_measured_logit_scale=float(scaled / unscaled),
       llama3_low_freq_wavelength=LLAMA3_TRAIN / 1.0, llama3_high_freq_wavelength=LLAMA3_TRAIN / 4.0,
       llama3_wavelength=2 * math.pi / plain3, llama3_n_unchanged=l3_counts[0], llama3_n_divided=l3_counts[2],
       llama3_n_blended=l3_counts[1], llama3_unchanged=l3_bands[0], llama3_blended=l3_bands[1],
       llama3_divided=l3_bands[2], bases=bases, slowest_wavelength=slowest,
       logits_with_factor=with_f, logits_without_factor=without_f, dropped_ratio=without_f / with_f,
       yarn_bands_original=yarn_bands, yarn_bands_max=bands(plain / inv_wrong, YARN_FACTOR), wrong_length=wrong_L,
       max_theta_change_wrong_length=float(((inv_wrong - yarn_inv) / yarn_inv).abs().max()),
       factor_one_max_difference=factor_one, dynamic_cached_key_error=float((cached - later).abs().max()))
"""),
    try_this="""
# Try this: YaRN's bands for another original length (try 2048 or 32768). Which planes move between bands?
for L0 in (2048, 4096, 32768):
    th, f = ar.rope_frequencies(HEAD_DIM, BASE, ar.RopeScaling("yarn", YARN_FACTOR, L0))
    print(L0, bands(plain / th, YARN_FACTOR), round(f, 4))
""",
    checks={
        "turns": "training_arcs.turns", "seen_fraction": "training_arcs.seen_fraction",
        "planes_full_turn": "training_arcs.planes_full_turn", "planes_partial": "training_arcs.planes_partial",
        "first_partial_plane": "training_arcs.first_partial_plane", "unseen_at_2x": "training_arcs.unseen_at_2x",
        "curve_theta": "frequency_curves.curves.*.theta", "curve_ratio": "frequency_curves.curves.*.ratio",
        "curve_attention_factor": "frequency_curves.curves.*.attention_factor",
        "llama3_theta": "frequency_curves.llama3.*.theta", "llama3_ratio": "frequency_curves.llama3.*.ratio",
        "llama3_attention_factor": "frequency_curves.llama3.*.attention_factor",
        "ntk_new_base": "ntk_aware.new_base", "ntk_exponent": "ntk_aware.exponent",
        "ntk_highest_ratio": "ntk_aware.highest_ratio", "ntk_lowest_ratio": "ntk_aware.lowest_ratio",
        "ntk_ratios": "ntk_aware.ratios",
        "yarn_correction_low": "yarn.correction_low", "yarn_correction_high": "yarn.correction_high",
        "yarn_low": "yarn.low", "yarn_high": "yarn.high", "yarn_ramp": "yarn.ramp",
        "yarn_unchanged": "yarn.unchanged", "yarn_blended": "yarn.blended", "yarn_interpolated": "yarn.interpolated",
        "yarn_attention_factor": "yarn.attention_factor", "yarn_logit_scale": "yarn.logit_scale",
        "yarn_measured_logit_scale": "yarn.measured_logit_scale",
        "llama3_low_freq_wavelength": "llama3.low_freq_wavelength",
        "llama3_high_freq_wavelength": "llama3.high_freq_wavelength", "llama3_wavelength": "llama3.wavelength",
        "llama3_n_unchanged": "llama3.n_unchanged", "llama3_n_divided": "llama3.n_divided",
        "llama3_n_blended": "llama3.n_blended", "llama3_unchanged": "llama3.unchanged",
        "llama3_blended": "llama3.blended", "llama3_divided": "llama3.divided",
        "bases": "base_raising.bases", "slowest_wavelength": "base_raising.slowest_wavelength",
        "logits_with_factor": "pitfalls.logits_with_factor", "logits_without_factor": "pitfalls.logits_without_factor",
        "dropped_ratio": "pitfalls.dropped_ratio", "yarn_bands_original": "pitfalls.yarn_bands_original",
        "yarn_bands_max": "pitfalls.yarn_bands_max", "wrong_length": "pitfalls.wrong_length",
        "max_theta_change_wrong_length": "pitfalls.max_theta_change_wrong_length",
        "factor_one_max_difference": "pitfalls.factor_one_max_difference",
        "dynamic_cached_key_error": "pitfalls.dynamic_cached_key_error",
    },
    unchecked={"cited_scaling": "published results (Chen et al. 2023: PI fine-tunes LLaMA 7B-65B for 1,000 steps "
                                "from 2,048 to 32,768 tokens; Peng et al. 2023: YaRN needs 10x fewer tokens and "
                                "2.5x fewer steps), quoted on screen, not measured"},
)

NOTEBOOK = NotebookSpec(intro=INTRO, setup=SETUP, values=VALUES, data_package="scenes.l03_rope.data",
                        topics=(L03_1, L03_2, L03_3, L03_4, L03_5))
