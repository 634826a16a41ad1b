"""L03.3 Implementation details: the two pairings on an 8-dim vector and the fixed permutation between them
(rope_half(P x) = P rope_interleaved(x)); the wrong-pairing pitfall on a designed previous-token head
(no error, the map moves); bf16 angles (positions above 256 are not exact); partial rotary; keys rotated
once at write time (what a KV cache stores); positions under left padding."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

import attn_ref as ar
from scenes.kit.data_builders import builder

from ._shared import BASE, DESIGNED, HEAD_DIM, Mat, Vec, gaussian, rotate, to_tuple, toeplitz_deviation

PAIR_DIM = 8
"""The 8-dim vector with coloured pair links."""
PAIR_SEED = 34
PIT_DIM = 16
"""Head width of the wrong-pairing demo (8 planes)."""
PIT_N = 10
PIT_SEED = 35
PIT_SHARPNESS = 4.0
"""The designed q is scaled by this so the previous-token peak is sharp after softmax."""
BF16_POSITIONS: tuple[int, ...] = (1000, 4000)
PARTIAL_HEAD_DIM, PARTIAL_PCT = 96, 0.25
"""GPT-NeoX-20B (HF GPTNeoXConfig defaults): head_dim 6144/64 = 96, rotary_pct 0.25 → 24 rotated channels."""
PAD_MASK: tuple[int, ...] = (0, 0, 1, 1, 1)


@dataclass(frozen=True)
class Pairings:
    """half pairs (x_i, x_{i+d/2}); interleaved pairs (x_{2i}, x_{2i+1}); P maps one layout to the other."""
    head_dim: int
    half_pairs: tuple[tuple[int, int], ...]          # (0, 4), (1, 5), (2, 6), (3, 7)
    interleaved_pairs: tuple[tuple[int, int], ...]   # (0, 1), (2, 3), (4, 5), (6, 7)
    permutation: tuple[int, ...]                     # ar.rope_permutation(8): (0, 2, 4, 6, 1, 3, 5, 7)
    x: Vec
    position: int
    half_of_px: Vec                                  # rope_half(P x)
    p_of_interleaved: Vec                            # P rope_interleaved(x)
    max_difference: float                            # 0 up to rounding
    half_users: tuple[str, ...]
    interleaved_users: tuple[str, ...]


@builder("L03.3")
def pairings() -> Pairings:
    """The same rotation in two memory layouts, and the HF conversion permutation between them."""
    d = PAIR_DIM
    x = gaussian((d,), PAIR_SEED)
    perm = ar.rope_permutation(d)
    inv, _ = ar.rope_frequencies(d, BASE)
    pos = 3
    a = rotate(x[perm], [pos], inv, "half")[0]
    b = rotate(x, [pos], inv, "interleaved")[0][perm]
    return Pairings(d, tuple((i, i + d // 2) for i in range(d // 2)), tuple((2 * i, 2 * i + 1) for i in range(d // 2)),
                    tuple(perm.tolist()), to_tuple(x), pos, to_tuple(a), to_tuple(b), float((a - b).abs().max()),
                    ("GPT-NeoX", "HF rotate_half (Llama after conversion)"),
                    ("GPT-J", "Meta Llama", "RoFormer", "DeepSeek"))


@dataclass(frozen=True)
class WrongPairing:
    """A head designed for interleaved pairing (k = R_1 q: it attends to the previous token) run with the
    other pairing. No error is raised; the map moves. Consistent q and k with the wrong pairing stay
    Toeplitz (still a valid RoPE, wrong frequencies per channel pair); mixing pairings between q and k
    (e.g. keys cached by one code path, queries rotated by another) loses the Toeplitz structure."""
    n: int
    head_dim: int
    correct_map: Mat                  # causal softmax weights, interleaved (as designed)
    wrong_map: Mat                    # the same q, k rotated with half pairing
    mixed_map: Mat                    # q half, k interleaved
    correct_prev_mass: float          # mean weight on the previous token (rows 1 …)
    wrong_prev_mass: float
    mixed_prev_mass: float
    max_map_difference: float         # max |wrong − correct|
    correct_peak_offset: int          # most common (argmax key − query) over rows 2 …: −1, the previous token
    wrong_peak_offset: int            # with the wrong pairing the peak moves
    correct_deviation: float          # Toeplitz deviation of the score grids
    wrong_deviation: float            # ≈ 0: still relative
    mixed_deviation: float            # far from 0
    raised: bool                      # False: nothing complains
    caption: str
    issues: tuple[str, ...]


def _maps(q, k, inv, pq: str, pk: str):
    pos = list(range(PIT_N))
    qs, ks = rotate(q, pos, inv, pq), rotate(k, pos, inv, pk)
    scores = qs @ ks.T / PIT_DIM ** 0.5
    _, p = ar.sdpa(qs[None, None], ks[None, None], ks[None, None], is_causal=True, return_weights=True)
    p = p[0, 0]
    prev = float(torch.stack([p[i, i - 1] for i in range(1, PIT_N)]).mean())
    return scores, p, prev


def _peak_offset(p: torch.Tensor) -> int:
    offsets = [int(p[i].argmax()) - i for i in range(2, p.shape[0])]
    return max(set(offsets), key=offsets.count)


@builder("L03.3")
def wrong_pairing() -> WrongPairing:
    """Weights converted for one pairing, run with the other: fluent output, quietly broken."""
    inv, _ = ar.rope_frequencies(PIT_DIM, BASE)
    q = gaussian((PIT_DIM,), PIT_SEED).abs() * PIT_SHARPNESS   # every plane contributes at the designed offset
    k = rotate(q, [1], inv, "interleaved")[0]                 # k = R_1 q: score(r = n − m) = qᵀ R_{r+1} q, peak r = −1
    raised = False
    try:
        s_c, p_c, prev_c = _maps(q, k, inv, "interleaved", "interleaved")
        s_w, p_w, prev_w = _maps(q, k, inv, "half", "half")
        s_m, p_m, prev_m = _maps(q, k, inv, "half", "interleaved")
    except Exception:  # pragma: no cover - the point is that nothing raises
        raised = True
        raise
    return WrongPairing(PIT_N, PIT_DIM, to_tuple(p_c), to_tuple(p_w), to_tuple(p_m), prev_c, prev_w, prev_m,
                        float((p_w - p_c).abs().max()), _peak_offset(p_c), _peak_offset(p_w),
                        toeplitz_deviation(s_c), toeplitz_deviation(s_w),
                        toeplitz_deviation(s_m), raised, DESIGNED,
                        ("huggingface/transformers#25199", "pytorch/torchtitan#801"))


@dataclass(frozen=True)
class Bf16Angles:
    """Angles p·θ_i computed in bf16 (8 significant bits) against float64 (HF #29285)."""
    positions: tuple[int, ...]
    spacing: tuple[float, ...]                 # distance between neighbouring bf16 numbers at each position
    exact_in_bf16: tuple[bool, ...]            # 1000 = 125·8 and 4000 = 125·32 happen to be exact
    fastest_error_at: Vec                      # |angle_bf16 − angle_64| of plane 0 at the position itself
    fastest_max_error_near: Vec                # max over positions p … p + spacing − 1 (plane 0, radians)
    worst_plane_error_at: Vec                  # max over planes at the position itself (radians)
    worst_plane: tuple[int, ...]
    largest_exact_integer_run: int             # 256: every integer 0 … 256 is exact in bf16
    issue: str
    significant_bits: int                      # 8: 7 stored mantissa bits and the implicit leading one
    near_positions: tuple[int, ...]            # positions[0] … positions[0] + 2·spacing[0]
    near_in_bf16: tuple[float, ...]            # each rounded to bf16 (nearest, ties to even)


def _bf16_angle(p: torch.Tensor, inv: torch.Tensor) -> torch.Tensor:
    """The angle the way a bf16 autocast computes it: position and inv_freq in bf16, product rounded to bf16."""
    return (p.to(torch.bfloat16)[:, None] * inv.to(torch.bfloat16)[None, :]).to(torch.float64)


@builder("L03.3")
def bf16_angles() -> Bf16Angles:
    """Pitfall 2: positions and angles in bf16 lose whole radians at positions in the thousands."""
    inv, _ = ar.rope_frequencies(HEAD_DIM, BASE)
    spacing, exact, at, near, worst, worst_i = [], [], [], [], [], []
    for p in BF16_POSITIONS:
        pt = torch.tensor([float(p)], dtype=torch.float64)
        sp = float(torch.nextafter(pt.to(torch.bfloat16), torch.tensor([1e9], dtype=torch.bfloat16)).double()
                   - pt.to(torch.bfloat16).double())
        spacing.append(sp)
        exact.append(float(pt.to(torch.bfloat16).double()) == p)
        err = (_bf16_angle(pt, inv) - pt[:, None] * inv[None, :]).abs()[0]
        at.append(float(err[0]))
        worst.append(float(err.max()))
        worst_i.append(int(err.argmax()))
        run = torch.arange(p, p + int(sp), dtype=torch.float64)
        near.append(float((_bf16_angle(run, inv)[:, 0] - run).abs().max()))
    ints = torch.arange(0, 1025, dtype=torch.float64)
    ok = ints.to(torch.bfloat16).double() == ints
    run_end = int((~ok).nonzero()[0]) - 1
    near_pos = torch.arange(BF16_POSITIONS[0], BF16_POSITIONS[0] + 2 * int(spacing[0]) + 1)
    return Bf16Angles(BF16_POSITIONS, tuple(spacing), tuple(exact), tuple(at), tuple(near), tuple(worst),
                      tuple(worst_i), run_end, "huggingface/transformers#29285",
                      1 - int(math.log2(torch.finfo(torch.bfloat16).eps)), tuple(near_pos.tolist()),
                      tuple(near_pos.to(torch.float64).to(torch.bfloat16).double().tolist()))


@dataclass(frozen=True)
class PartialRotary:
    """GPT-NeoX rotates the first rotary_pct of each head's channels and passes the rest through."""
    head_dim: int
    rotary_pct: float
    rotary_dim: int
    passthrough_dim: int               # head_dim − rotary_dim channels left as they are
    passthrough_unchanged: bool        # channels rotary_dim … exactly equal
    rotated_changed: bool
    note: str


@builder("L03.3")
def partial_rotary() -> PartialRotary:
    """apply_rope with inv_freq for the first 24 of 96 channels (GPT-NeoX-20B's rotary_pct 0.25)."""
    rot = int(PARTIAL_HEAD_DIM * PARTIAL_PCT)
    inv, _ = ar.rope_frequencies(rot, BASE)
    x = gaussian((PARTIAL_HEAD_DIM,), PAIR_SEED + 1)
    y = rotate(x, [7], inv)[0]
    return PartialRotary(PARTIAL_HEAD_DIM, PARTIAL_PCT, rot, PARTIAL_HEAD_DIM - rot,
                         bool(torch.equal(y[rot:], x[rot:])), bool((y[:rot] != x[:rot]).any()),
                         "HF GPTNeoXConfig defaults (EleutherAI/gpt-neox-20b): hidden 6144, 64 heads, rotary_pct 0.25")


@dataclass(frozen=True)
class CachedKeys:
    """Rotate once at write time: keys cached already rotated give the same scores as rotating everything
    again at each step (RoPE keys depend on their own position only). Left padding: positions come from
    cumsum(mask) − 1."""
    steps: int
    max_score_difference: float        # cached-rotated keys vs full recompute, every decode step
    pad_mask: tuple[int, ...]
    positions_from_mask: tuple[int, ...]   # cumsum(mask) − 1, pads set to 1 as HF does
    naive_positions: tuple[int, ...]       # arange: the real tokens start at 2
    rope_scores_equal_under_shift: bool    # RoPE scores among real tokens do not change (relative)
    lecture_ahead: str


@builder("L03.3")
def cached_keys() -> CachedKeys:
    """The KV cache stores rotated keys; left-padded positions from the mask (L05 in detail)."""
    inv, _ = ar.rope_frequencies(PAIR_DIM, BASE)
    g = gaussian((2, 6, PAIR_DIM), PAIR_SEED + 2)
    qs, ks = g[0], g[1]
    cache = []
    worst = 0.0
    for t in range(len(ks)):
        cache.append(rotate(ks[t], [t], inv)[0])                       # written once, at position t
        cached = torch.stack(cache)
        fresh = torch.stack([rotate(ks[j], [j], inv)[0] for j in range(t + 1)])   # recomputed from scratch
        qt = rotate(qs[t], [t], inv)[0]
        worst = max(worst, float((cached @ qt - fresh @ qt).abs().max()))
    mask = torch.tensor(PAD_MASK)
    pos = (mask.cumsum(0) - 1).masked_fill(mask == 0, 1)
    naive = torch.arange(len(PAD_MASK))
    real = mask.bool()
    x = g[0][: len(PAD_MASK)]
    s_mask = rotate(x[0], pos[real].tolist(), inv) @ rotate(x[1], pos[real].tolist(), inv).T
    s_naive = rotate(x[0], naive[real].tolist(), inv) @ rotate(x[1], naive[real].tolist(), inv).T
    return CachedKeys(len(ks), worst, PAD_MASK, tuple(pos.tolist()), tuple(naive.tolist()),
                      bool(torch.allclose(s_mask, s_naive, atol=1e-12, rtol=0)), "L05: KV cache")
