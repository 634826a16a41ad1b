"""L03.5 Scaling considerations: the arc of angles each plane sweeps during training; θ'_i per plane for
plain RoPE, PI (linear), static NTK-aware, YaRN and Llama 3.1, all from ``ar.rope_frequencies``; YaRN's
bands and attention factor; Llama 3.1's wavelength bands; raising the base; the pitfalls (factor dropped,
original vs max positions, factor 1 is plain RoPE, a length-dependent base and cached keys); cited PI and
YaRN figures."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

import attn_ref as ar
from scenes.kit.data_builders import builder
from scenes.kit.references import CHEN_2023_PI, GEMMA_2025, LLAMA, PENG, ROZIERE

from ._shared import BASE, HEAD_DIM, LLAMA3_BASE, Vec, gaussian, rotate, to_tuple, wavelengths

TRAIN_LENGTH = 4096
"""L_orig of the frequency plots (Llama 2's context)."""
FACTOR = 8.0
"""s of the frequency plots (and of the NTK example)."""
YARN_FACTOR = 16.0
"""s of YaRN's attention-factor example: 0.1 ln 16 + 1 = 1.2773."""
LLAMA3_FACTOR, LLAMA3_TRAIN = 8.0, 8192
LONG_BASE = 1_000_000.0
"""Code Llama's base, and Gemma 3's global layers (local layers keep 10⁴)."""
SEED = 37


def _freqs(scaling=None, base: float = BASE) -> tuple[torch.Tensor, float]:
    return ar.rope_frequencies(HEAD_DIM, base, scaling)


@dataclass(frozen=True)
class TrainingArcs:
    """Per plane, the angles seen during training: [0, L·θ_i]."""
    train_length: int
    turns: Vec                           # L·θ_i / 2π per plane
    seen_fraction: Vec                   # min(1, L·θ_i / 2π): the part of the circle seen
    planes_full_turn: int                # planes that wrap at least once
    planes_partial: int                  # planes that sweep only part of a turn
    first_partial_plane: int
    unseen_at_2x: tuple[int, ...]        # planes whose angles at positions L … 2L were never seen


@builder("L03.5")
def training_arcs() -> TrainingArcs:
    """Fast planes wrap many times within L = 4096; slow planes see a fraction of a turn."""
    inv, _ = _freqs()
    turns = TRAIN_LENGTH * inv / (2 * math.pi)
    partial = [i for i, t in enumerate(turns.tolist()) if t < 1]
    unseen = tuple(i for i in range(len(inv)) if TRAIN_LENGTH * float(inv[i]) < 2 * math.pi)
    return TrainingArcs(TRAIN_LENGTH, to_tuple(turns), to_tuple(turns.clamp(max=1)), len(inv) - len(partial),
                        len(partial), partial[0], unseen)


@dataclass(frozen=True)
class Curve:
    kind: str
    label: str
    theta: Vec                   # θ'_i, i = 0 … 63 (log scale on screen)
    ratio: Vec                   # θ_i / θ'_i: 1 kept, s interpolated
    attention_factor: float


@dataclass(frozen=True)
class FrequencyCurves:
    head_dim: int
    base: float
    factor: float
    train_length: int
    curves: tuple[Curve, ...]             # plain, linear, ntk, yarn at base 10⁴
    llama3_base: float
    llama3: tuple[Curve, ...]             # plain and llama3 at base 5·10⁵, s = 8, L_orig 8192


@builder("L03.5")
def frequency_curves() -> FrequencyCurves:
    """Five curves of θ'_i vs plane index from ar.rope_frequencies(..., scaling=ar.RopeScaling(kind, s, L))."""
    plain, _ = _freqs()
    out = []
    for kind, label, sc in (("plain", "plain RoPE", None),
                            ("linear", "PI / linear", ar.RopeScaling("linear", FACTOR)),
                            ("ntk", "NTK-aware", ar.RopeScaling("ntk", FACTOR)),
                            ("yarn", "YaRN", ar.RopeScaling("yarn", FACTOR, TRAIN_LENGTH))):
        inv, f = _freqs(sc)
        out.append(Curve(kind, label, to_tuple(inv), to_tuple(plain / inv), f))
    p3, _ = _freqs(base=LLAMA3_BASE)
    l3, f3 = _freqs(ar.RopeScaling("llama3", LLAMA3_FACTOR, LLAMA3_TRAIN), LLAMA3_BASE)
    return FrequencyCurves(HEAD_DIM, BASE, FACTOR, TRAIN_LENGTH, tuple(out), LLAMA3_BASE,
                           (Curve("plain", "plain RoPE (base 5·10⁵)", to_tuple(p3), (1.0,) * len(p3), 1.0),
                            Curve("llama3", "Llama 3.1", to_tuple(l3), to_tuple(p3 / l3), f3)))


@dataclass(frozen=True)
class NtkAware:
    """Static NTK-aware: b' = b · s^(d/(d−2)); θ'_0 = θ_0 and θ'_{d/2−1} = θ_{d/2−1}/s exactly."""
    factor: float
    base: float
    new_base: float                  # 82,684.6 for s = 8
    exponent: float                  # d/(d−2) = 64/63
    highest_ratio: float             # θ_0 / θ'_0 = 1
    lowest_ratio: float              # θ_63 / θ'_63 = s
    ratios: Vec
    kind_note: str


@builder("L03.5")
def ntk_aware() -> NtkAware:
    """The base change, from RopeScaling('ntk', 8): highest frequency untouched, lowest divided by s."""
    plain, _ = _freqs()
    inv, _ = _freqs(ar.RopeScaling("ntk", FACTOR))
    new_base = float(1.0 / inv[1]) ** (HEAD_DIM / 2)   # θ'_1 = b'^(−2/d)
    r = plain / inv
    return NtkAware(FACTOR, BASE, new_base, HEAD_DIM / (HEAD_DIM - 2), float(r[0]), float(r[-1]), to_tuple(r),
                    "static NTK-aware (bloc97), dynamic NTK (base follows the length) and NTK-by-parts "
                    "(YaRN's ramp) are three different methods")


@dataclass(frozen=True)
class Yarn:
    """YaRN as implemented (HF, jquesnelle/yarn): ramp γ_i linear in the plane index between
    ⌊i_32⌋ and ⌈i_1⌉, i_β = d ln(L/(2πβ)) / (2 ln b); attention factor √(1/t) = 0.1 ln s + 1."""
    train_length: int
    correction_low: float                # i_32 before flooring (≈ 20.9)
    correction_high: float               # i_1 before ceiling (≈ 45.0)
    low: int                             # 20
    high: int                            # 46
    ramp: Vec                            # γ_i: 0 unchanged, 1 fully interpolated
    unchanged: tuple[int, int]           # (first, last) plane kept: (0, 20)
    blended: tuple[int, int]             # (21, 45)
    interpolated: tuple[int, int]        # (46, 63)
    factor: float                        # 16
    attention_factor: float              # 1.2773
    logit_scale: float                   # its square, 1.6314 (cos and sin both multiplied)
    measured_logit_scale: float          # dot(rope_f(q), rope_f(k)) / dot(rope(q), rope(k))


def _bands(ratio: torch.Tensor, s: float) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    keep = [i for i, r in enumerate(ratio.tolist()) if abs(r - 1) < 1e-12]
    full = [i for i, r in enumerate(ratio.tolist()) if abs(r - s) < 1e-9 * s]
    mid = [i for i in range(len(ratio)) if i not in keep and i not in full]
    span = lambda xs: (xs[0], xs[-1]) if xs else (-1, -1)  # noqa: E731
    return span(keep), span(mid), span(full)


@builder("L03.5")
def yarn() -> Yarn:
    """YaRN's three bands for L_orig = 4096, d = 128, b = 10⁴, and its attention factor at s = 16."""
    plain, _ = _freqs()
    sc = ar.RopeScaling("yarn", YARN_FACTOR, TRAIN_LENGTH)
    inv, f = _freqs(sc)
    ratio = plain / inv
    ramp = (1 - inv / plain) * YARN_FACTOR / (YARN_FACTOR - 1)   # θ' = θ(1 − γ + γ/s) ⇒ γ = (1 − θ'/θ)·s/(s − 1)
    cdim = lambda beta: HEAD_DIM * math.log(TRAIN_LENGTH / (2 * math.pi * beta)) / (2 * math.log(BASE))  # noqa: E731
    keep, mid, full = _bands(ratio, YARN_FACTOR)
    w = gaussian((2, HEAD_DIM), SEED)
    pos = [5]
    scaled = (rotate(w[0], pos, inv, attention_factor=f) * rotate(w[1], [2], inv, attention_factor=f)).sum()
    unscaled = (rotate(w[0], pos, inv) * rotate(w[1], [2], inv)).sum()
    return Yarn(TRAIN_LENGTH, cdim(32), cdim(1), math.floor(cdim(32)), math.ceil(cdim(1)), to_tuple(ramp), keep,
                mid, full, YARN_FACTOR, f, f * f, float(scaled / unscaled))


@dataclass(frozen=True)
class Llama3:
    """Llama 3.1: bands by wavelength against L/β_l = 8192 and L/β_h = 2048, not by plane index."""
    base: float
    factor: float
    train_length: int
    low_freq_factor: float
    high_freq_factor: float
    low_freq_wavelength: float           # L / low_freq_factor = 8192
    high_freq_wavelength: float          # L / high_freq_factor = 2048
    wavelength: Vec                      # plain λ_i at base 5·10⁵
    n_unchanged: int                     # 29 (λ < 2048)
    n_divided: int                       # 29 (λ > 8192)
    n_blended: int                       # 6
    unchanged: tuple[int, int]
    blended: tuple[int, int]
    divided: tuple[int, int]
    source: str


@builder("L03.5")
def llama3() -> Llama3:
    """RopeScaling('llama3', 8, 8192, low_freq_factor=1, high_freq_factor=4) at base 5·10⁵."""
    sc = ar.RopeScaling("llama3", LLAMA3_FACTOR, LLAMA3_TRAIN, low_freq_factor=1.0, high_freq_factor=4.0)
    plain, _ = _freqs(base=LLAMA3_BASE)
    inv, _ = _freqs(sc, LLAMA3_BASE)
    keep, mid, full = _bands(plain / inv, LLAMA3_FACTOR)
    n = lambda b: b[1] - b[0] + 1 if b[0] >= 0 else 0  # noqa: E731
    return Llama3(LLAMA3_BASE, LLAMA3_FACTOR, LLAMA3_TRAIN, 1.0, 4.0, LLAMA3_TRAIN / 1.0, LLAMA3_TRAIN / 4.0,
                  to_tuple(wavelengths(plain)), n(keep), n(full), n(mid), keep, mid, full, LLAMA.short(venue=False))


@dataclass(frozen=True)
class BaseRaising:
    """Raising the base slows every plane but the first: the slowest wavelength for d = 128."""
    bases: Vec                            # 10⁴, 5·10⁵, 10⁶
    slowest_wavelength: Vec
    users: tuple[str, ...]
    sources: tuple[str, ...]


@builder("L03.5")
def base_raising() -> BaseRaising:
    """Code Llama 10⁶; Llama 3 5·10⁵; Gemma 3 global layers 10⁴ → 10⁶ (local layers keep 10⁴)."""
    bases = (BASE, LLAMA3_BASE, LONG_BASE)
    lam = tuple(float(wavelengths(_freqs(base=b)[0])[-1]) for b in bases)
    return BaseRaising(bases, lam, ("RoFormer, Llama 2, Gemma 3 local layers", "Llama 3",
                                    "Code Llama, Gemma 3 global layers"),
                       (ROZIERE.short(venue=False), LLAMA.short(venue=False), GEMMA_2025.short(venue=False)))


@dataclass(frozen=True)
class Pitfalls:
    """What goes wrong in practice, each computed."""
    yarn_factor: float
    logits_with_factor: float             # q·k with YaRN's attention factor on cos and sin
    logits_without_factor: float          # the factor dropped (vLLM #46280, mlx-lm #1507)
    dropped_ratio: float                  # 1/1.6314: logits too small by the factor squared
    yarn_bands_original: tuple[tuple[int, int], ...]   # with original_max_position_embeddings = 4096
    yarn_bands_max: tuple[tuple[int, int], ...]        # the wrong one: max_position_embeddings = 65,536
    original_length: int                  # original_max_position_embeddings (4096)
    wrong_length: int                     # max_position_embeddings = original × factor (65,536), passed by mistake
    max_theta_change_wrong_length: float  # max relative change of θ' between the two
    factor_one_max_difference: tuple[tuple[str, float], ...]   # per kind: max |θ'(s = 1) − θ|: 0
    dynamic_cached_key_error: float       # dynamic NTK: a key cached at length 4096 vs re-rotated at 16,384
    issues: tuple[str, ...]


@builder("L03.5")
def pitfalls() -> Pitfalls:
    """The YaRN factor dropped; original vs max positions; factor 1 is plain RoPE; dynamic NTK and the cache."""
    sc = ar.RopeScaling("yarn", YARN_FACTOR, TRAIN_LENGTH)
    inv, f = _freqs(sc)
    w = gaussian((2, HEAD_DIM), SEED)
    with_f = float((rotate(w[0], [9], inv, attention_factor=f) * rotate(w[1], [3], inv, attention_factor=f)).sum())
    without = float((rotate(w[0], [9], inv) * rotate(w[1], [3], inv)).sum())
    plain, _ = _freqs()
    wrong_L = int(TRAIN_LENGTH * YARN_FACTOR)
    inv_wrong, _ = _freqs(ar.RopeScaling("yarn", YARN_FACTOR, wrong_L))
    ones = []
    for kind, L0 in (("linear", None), ("ntk", None), ("dynamic_ntk", TRAIN_LENGTH), ("yarn", TRAIN_LENGTH),
                     ("llama3", LLAMA3_TRAIN)):
        got, _ = _freqs(ar.RopeScaling(kind, 1.0, L0))
        ones.append((kind, float((got - plain).abs().max())))
    dyn = ar.Rope(HEAD_DIM, BASE, ar.RopeScaling("dynamic_ntk", 4.0, TRAIN_LENGTH))
    key = w[1].expand(1, 1, 1, HEAD_DIM).clone()
    pos = torch.tensor([1000])
    cached = dyn(key, pos, max_position=TRAIN_LENGTH)
    later = dyn(key, pos, max_position=4 * TRAIN_LENGTH)
    return Pitfalls(YARN_FACTOR, with_f, without, without / with_f, _bands(plain / inv, YARN_FACTOR),
                    _bands(plain / inv_wrong, YARN_FACTOR), TRAIN_LENGTH, wrong_L,
                    float(((inv_wrong - inv) / inv).abs().max()),
                    tuple(ones), float((cached - later).abs().max()),
                    ("vllm-project/vllm#46280", "ml-explore/mlx-lm#1507"))


@dataclass(frozen=True)
class CitedScaling:
    """PI and YaRN as their papers report them."""
    pi_models: str
    pi_from: int
    pi_to: int
    pi_quote: str
    pi_note: str
    yarn_quote: str
    sources: tuple[str, ...]


@builder("L03.5")
def cited_scaling() -> CitedScaling:
    """Chen et al. 2023 (PI is a fine-tuning method) and Peng et al. 2023 (YaRN's efficiency claim)."""
    return CitedScaling("LLaMA 7B–65B", 2048, 32768, "fine-tuning for 1000 steps on the Pile",
                        "PI is not training-free", "10x less tokens and 2.5x less training steps than previous methods",
                        (CHEN_2023_PI.short(venue=False), PENG.short(venue=False)))
