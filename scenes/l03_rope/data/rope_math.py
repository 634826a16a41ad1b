"""L03.2 RoPE mathematics: a 2-D q and k rotated by mθ and nθ, both shifted by t with the dot product
unchanged (``ar.apply_rope``); d/2 planes and their wavelengths (2π … ≈ 54,410 tokens for d = 128,
base 10⁴); the (m, n) score grid, Toeplitz for RoPE and not for added sinusoids; RoFormer's long-term
decay bound beside the actual oscillating score; norms preserved, v never rotated."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

import attn_ref as ar
from scenes.kit.data_builders import builder
from scenes.kit.references import SU

from ._shared import (BASE, GRID_DIM, GRID_N, HEAD_DIM, UNTRAINED, Mat, Vec, content, gaussian, rotate, to_tuple,
                      toeplitz_deviation, wavelengths)

Q2D: tuple[float, float] = (1.0, 0.5)
K2D: tuple[float, float] = (0.6, 1.2)
"""The 2-D query and key of the opening picture (one plane)."""
THETA_2D = 0.5
"""The 2-D picture's angle per token (radians): visible turns."""
M_2D, N_2D = 1, 3
SHIFTS: tuple[int, ...] = (0, 1, 2, 3, 5, 8, 20, 100)
"""Shifts t applied to both positions: the dot product stays put."""
WIDE_SEED = 33
"""Seed of the d = 128 q, k whose dot product is checked under shifts and whose score is drawn under the bound."""
DECAY_MAX = 1024
"""Relative distances 0 … 1024 for the decay plot (RoFormer Fig. 2 spans a similar range)."""
NEAR, FAR = 64, 512
"""'Near' distances are r ≤ NEAR, 'far' ones r ≥ FAR (the far-over-near ratios; the relative curves)."""


@dataclass(frozen=True)
class ShiftInvariance:
    """q at m and k at n, both shifted by t: every arrow turns by tθ; angle and dot product unchanged."""
    theta: float
    q: Vec
    k: Vec
    m: int
    n: int
    shifts: tuple[int, ...]
    q_rotated: tuple[Vec, ...]             # per shift: q rotated to position m + t
    k_rotated: tuple[Vec, ...]             # per shift: k rotated to position n + t
    angle_between: tuple[float, ...]       # per shift: angle from q' to k' (radians): (n − m)θ + angle(q, k)
    dots: tuple[float, ...]                # per shift: q'·k', all equal
    max_dot_spread: float                  # max − min of dots: 0 up to rounding
    wide_dim: int                          # the same check at d = 128, base 10⁴
    wide_dots: tuple[float, ...]
    wide_max_spread: float
    caption: str


def _angle(v: torch.Tensor) -> float:
    return math.atan2(float(v[1]), float(v[0]))


@builder("L03.2")
def shift_invariance() -> ShiftInvariance:
    """Both positions shifted by t: the number on screen ticks and stays the same (computed by apply_rope)."""
    q, k = torch.tensor(Q2D, dtype=torch.float64), torch.tensor(K2D, dtype=torch.float64)
    inv = torch.tensor([THETA_2D], dtype=torch.float64)
    qs = rotate(q, [M_2D + t for t in SHIFTS], inv)
    ks = rotate(k, [N_2D + t for t in SHIFTS], inv)
    dots = (qs * ks).sum(-1)
    ang = tuple(math.remainder(_angle(b) - _angle(a), 2 * math.pi) for a, b in zip(qs, ks))
    w = gaussian((2, HEAD_DIM), WIDE_SEED)
    inv128, _ = ar.rope_frequencies(HEAD_DIM, BASE)
    wq = rotate(w[0], [M_2D + t for t in SHIFTS], inv128)
    wk = rotate(w[1], [N_2D + t for t in SHIFTS], inv128)
    wd = (wq * wk).sum(-1)
    return ShiftInvariance(THETA_2D, Q2D, K2D, M_2D, N_2D, SHIFTS, to_tuple(qs), to_tuple(ks), ang, to_tuple(dots),
                           float(dots.max() - dots.min()), HEAD_DIM, to_tuple(wd), float(wd.max() - wd.min()),
                           UNTRAINED)


@dataclass(frozen=True)
class Planes:
    """d/2 independent planes: θ_i = b^(−2i/d) (code index i = 0 … d/2 − 1), λ_i = 2π/θ_i tokens per turn."""
    head_dim: int
    base: float
    theta: Vec
    wavelength: Vec
    fastest_wavelength: float          # 2π ≈ 6.28 tokens (θ_0 = 1 radian per token)
    slowest_wavelength: float          # ≈ 54,410 tokens for d = 128, b = 10⁴
    slowest_theta: float
    index_note: str
    dial_positions: tuple[int, ...]    # positions the RotationDial shows
    dial_angles: tuple[Vec, ...]       # per position: the angle of planes 0, 1, 2, 31, 63 (mod 2π)
    dial_planes: tuple[int, ...]
    dial_gap: int                      # the k hand sits dial_gap tokens after the q hand
    dial_k_angles: tuple[Vec, ...]     # per position p: the angle of the dial planes at p + dial_gap (mod 2π)
    source: str


DIAL_PLANES: tuple[int, ...] = (0, 1, 2, 31, 63)
DIAL_POSITIONS: tuple[int, ...] = (0, 1, 2, 3, 10, 100, 1000)
DIAL_GAP = 2
"""The dials' k hand is DIAL_GAP tokens after the q hand: the gap angle per plane is DIAL_GAP·θ_i."""


@builder("L03.2")
def planes() -> Planes:
    """The frequency ladder for d = 128, base 10⁴, from ar.rope_frequencies."""
    inv, _ = ar.rope_frequencies(HEAD_DIM, BASE)
    lam = wavelengths(inv)
    def at(p: int) -> Vec:
        return tuple(math.fmod(p * float(inv[i]), 2 * math.pi) for i in DIAL_PLANES)

    return Planes(HEAD_DIM, BASE, to_tuple(inv), to_tuple(lam), float(lam[0]), float(lam[-1]), float(inv[-1]),
                  "paper: planes i = 1 … d/2, exponent with (i−1); code: inv_freq index i = 0 … d/2 − 1",
                  DIAL_POSITIONS, tuple(at(p) for p in DIAL_POSITIONS), DIAL_PLANES, DIAL_GAP,
                  tuple(at(p + DIAL_GAP) for p in DIAL_POSITIONS), SU.short(venue=False))


@dataclass(frozen=True)
class ScoreGrids:
    """(m, n) scores for fixed content q, k: RoPE's grid is Toeplitz, added sinusoids' grid is not."""
    head_dim: int
    n: int
    q: Vec
    k: Vec
    rope_scores: Mat                 # rope(q, m) · rope(k, n)
    sinusoidal_scores: Mat           # (q + PE_m) · (k + PE_n)
    rope_deviation: float            # ≈ 1e-15
    sinusoidal_deviation: float      # order 1
    rope_by_offset: Vec              # score at n − m = −(n−1) … n−1 (one number per diagonal)
    caption: str


@builder("L03.2")
def score_grids() -> ScoreGrids:
    """The full (m, n) grid, RoPE against the same content with additive sinusoidal embeddings."""
    q, k = content()
    inv, _ = ar.rope_frequencies(GRID_DIM, BASE)
    pos = list(range(GRID_N))
    rope = rotate(q, pos, inv) @ rotate(k, pos, inv).T
    pe = ar.sinusoidal_positions(GRID_N, GRID_DIM)
    sin = (q + pe) @ (k + pe).T
    by_offset = tuple(float(torch.diagonal(rope, o)[0]) for o in range(-(GRID_N - 1), GRID_N))
    return ScoreGrids(GRID_DIM, GRID_N, to_tuple(q), to_tuple(k), to_tuple(rope), to_tuple(sin),
                      toeplitz_deviation(rope), toeplitz_deviation(sin), by_offset, UNTRAINED)


@dataclass(frozen=True)
class Decay:
    """RoFormer's bound B(r) (§3.4.3, Fig. 2) beside the actual score of random q, k (d = 128, b = 10⁴).

    With interleaved pairs h_i = (q_{2i} + i q_{2i+1}) · conj(k_{2i} + i k_{2i+1}), the score at relative
    distance r is Re Σ_i h_i e^{i r θ_i}, and Abel summation gives
    |score| ≤ max_i |h_{i+1} − h_i| · (d/2) · B(r)   (h_{d/2} = 0)."""
    head_dim: int
    distances: tuple[int, ...]
    bound: Vec                          # B(r), ar.rope_decay_bound
    bound_at_zero: float                # (d/2 + 1)/2 = 32.5
    random_score: Vec                   # rope(q, r) · rope(k, 0), random q, k
    random_score_bound: Vec             # max|h_{i+1} − h_i| · (d/2) · B(r): it holds at every r
    bound_holds: bool
    constant_score: Vec                 # q = k = all ones: Σ_i 2 cos(r θ_i), the decaying case
    random_far_over_near: float         # max |score| over r ≥ 512 / max |score| over r ≤ 64: no decay
    constant_far_over_near: float       # the same for constant content: small
    near: int                           # the "near" distances are r ≤ near
    far: int                            # the "far" distances are r ≥ far
    bound_relative: Vec                 # B(r) / max_{r ≤ near} B: the three curves on one axis
    random_relative: Vec                # random score / max_{r ≤ near} |random score|
    constant_relative: Vec              # constant-content score / max_{r ≤ near} |constant score|
    caption: str
    cited_figure: str


@builder("L03.2")
def decay() -> Decay:
    """The decay is of an upper bound (and of constant-content vectors); a random q·k oscillates."""
    r = torch.arange(0, DECAY_MAX + 1)
    inv, _ = ar.rope_frequencies(HEAD_DIM, BASE)
    bound = ar.rope_decay_bound(r, HEAD_DIM, BASE)
    w = gaussian((2, HEAD_DIM), WIDE_SEED)
    q, k = w[0], w[1]
    zeros = [0] * len(r)
    score = (rotate(q, r.tolist(), inv, "interleaved") * rotate(k, zeros, inv, "interleaved")).sum(-1)
    hq = torch.complex(q[0::2], q[1::2])
    hk = torch.complex(k[0::2], k[1::2])
    h = torch.cat([hq * hk.conj(), torch.zeros(1, dtype=torch.complex128)])
    scale = float((h[1:] - h[:-1]).abs().max()) * HEAD_DIM / 2
    ones = torch.ones(HEAD_DIM, dtype=torch.float64)
    const = (rotate(ones, r.tolist(), inv, "interleaved") * rotate(ones, zeros, inv, "interleaved")).sum(-1)
    ratio = lambda s: float(s[FAR:].abs().max() / s[:NEAR + 1].abs().max())  # noqa: E731
    rel = lambda s: to_tuple(s / s[:NEAR + 1].abs().max())  # noqa: E731
    return Decay(HEAD_DIM, tuple(r.tolist()), to_tuple(bound), float(bound[0]), to_tuple(score),
                 to_tuple(scale * bound), bool((score.abs() <= scale * bound + 1e-9).all()), to_tuple(const),
                 ratio(score), ratio(const), NEAR, FAR, rel(bound), rel(score), rel(const), UNTRAINED,
                 f"{SU.cite}, Fig. 2 (the bound as a function of relative distance); our curve is computed")


@dataclass(frozen=True)
class NormsAndValues:
    """A rotation keeps every norm; RoPE rotates q and k (after projection, per head), never v."""
    norms_before: Vec
    norms_after: tuple[Vec, ...]        # per position in `positions`
    positions: tuple[int, ...]
    max_norm_change: float
    rotated: tuple[str, ...]
    not_rotated: tuple[str, ...]


@builder("L03.2")
def norms() -> NormsAndValues:
    """‖R_{Θ,m} x‖ = ‖x‖ for the grid's q and k at every position."""
    q, k = content()
    inv, _ = ar.rope_frequencies(GRID_DIM, BASE)
    pos = (0, 1, 5, 100, 10_000)
    after = [tuple(float(v) for v in rotate(x, pos, inv).norm(dim=-1)) for x in (q, k)]
    before = (float(q.norm()), float(k.norm()))
    change = max(abs(a - b) for b, row in zip(before, after) for a in row)
    return NormsAndValues(before, tuple(zip(*after)), pos, change, ("q", "k"), ("v", "the embedding x"))
