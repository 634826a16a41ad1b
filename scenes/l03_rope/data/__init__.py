"""Lecture 3 data: every number the L03 scenes will draw, computed with ``attn_ref`` or read from the
committed lab result (results/experiments/needle_haystack.json), pure and seeded.

One module per topic, named after the scene it feeds, and ``_shared`` for the toy embeddings and
projections, the fixed-content q, k of the score grids, the frequency configurations (d = 128, base 10⁴;
Llama 3.1's 5·10⁵), ``rotate`` (one vector at many positions through ``ar.apply_rope``),
``toeplitz_deviation`` and the lab source line. Every builder is declared with ``@builder("L03.k")``
(``scenes.kit.data_builders``) and returns a frozen dataclass of plain values; ``cache_clear()`` forgets
every builder and shared input. Scenes use ``from scenes.l03_rope import data``. Plane indices are the
code's, 0-based (``inv_freq[i] = b^(−2i/d)``); the paper's θ_i is 1-based.

========================  =====  ==================================================================
builder                   topic  what it holds
========================  =====  ==================================================================
permutation_equivariance  L03.1  'dog bites man' vs 'man bites dog', no positions: rows permute, values equal;
                                 with a causal mask they do not (the mask leaks order)
sinusoidal_table          L03.1  ar.sinusoidal_positions(32, 16): the n × d heat map, ω_i, wavelengths
t5_buckets                L03.1  T5 buckets (32, max distance 128): exact below 8, log-spaced to 128; bias grid
alibi_grid                L03.1  ALiBi slopes (H = 8: 1/2 … 1/256; H = 12) and the (H, n, n) bias
diagonal_structure        L03.1  three grids side by side; Toeplitz deviation: sinusoidal ≈ 1.19, T5 0, ALiBi 0
shift_invariance          L03.2  2-D q, k at m, n shifted by t: angle and dot product constant; the same at d = 128
planes                    L03.2  θ_i and λ_i for d = 128, b = 10⁴: λ = 2π … ≈ 54,410; the dial angles
score_grids               L03.2  (m, n) grid for fixed q, k: RoPE Toeplitz (≈ 1e-15), added sinusoids not
decay                     L03.2  RoFormer bound B(r) (B(0) = 32.5) vs a random q·k that oscillates; bound holds
norms                     L03.2  ‖R x‖ = ‖x‖ at positions up to 10⁴; q and k rotated, never v
pairings                  L03.3  half vs interleaved pairs on 8 dims, P = (0 2 4 6 1 3 5 7), rope_half(Px) = P rope_i(x)
wrong_pairing             L03.3  designed previous-token head run with the other pairing: no error, peak moves to −2;
                                 still Toeplitz when q and k share the wrong pairing, not when they differ
bf16_angles               L03.3  bf16 spacing 4 at 1000 and 16 at 4000: fastest-plane errors up to 2 and 8 radians
partial_rotary            L03.3  GPT-NeoX rotary_pct 0.25: 24 of 96 channels rotated, the rest passed through
cached_keys               L03.3  keys rotated once at write time = recomputed; left-padding positions cumsum(mask) − 1
comparison_table          L03.4  six schemes × relative / extra parameters / bias in kernel / KV cache / lab accuracy
lab_results               L03.4  lab experiment 2 per scheme: needle accuracy by length and depth, loss by position
cited_alibi               L03.4  Press et al.: 1.3B trained on 1024 matches sinusoidal trained on 2048 (perplexity)
training_arcs             L03.5  turns per plane in L = 4096: 46 planes wrap, 18 see part of a turn
frequency_curves          L03.5  θ'_i for plain, PI, NTK-aware, YaRN (s = 8, L 4096) and Llama 3.1 (base 5·10⁵)
ntk_aware                 L03.5  b' = b·s^(d/(d−2)) = 82,684.6 at s = 8; θ'_0 = θ_0, θ'_63 = θ_63/8
yarn                      L03.5  bands 0–20 kept, 21–45 blended, 46–63 interpolated; factor 1.2773 at s = 16, ² 1.6314
llama3                    L03.5  29 planes kept (λ < 2048), 29 divided by 8 (λ > 8192), 6 blended
base_raising              L03.5  slowest wavelength at bases 10⁴, 5·10⁵, 10⁶
pitfalls                  L03.5  YaRN factor dropped; original vs max positions; factor 1 = plain; dynamic NTK + cache
cited_scaling             L03.5  Chen et al. (PI, 2048 → 32768, 1000 steps), Peng et al. (YaRN, 10x tokens, 2.5x steps)
references                recap  the papers (kit References), the manifest's Lecture 3 list
========================  =====  ==================================================================
"""
from __future__ import annotations

from scenes.kit import data_builders

from ._shared import (BASE, HEAD_DIM, LLAMA3_BASE, as_tensor, content, embed, projections, rotate,
                      toeplitz_deviation, wavelengths)
from .absolute_relative import (alibi_grid, diagonal_structure, permutation_equivariance,  # noqa: F401
                                sinusoidal_table, t5_buckets)
from .benefits import cited_alibi, comparison_table, lab_results  # noqa: F401
from .implementation import bf16_angles, cached_keys, pairings, partial_rotary, wrong_pairing  # noqa: F401
from .recap import references  # noqa: F401
from .rope_math import decay, norms, planes, score_grids, shift_invariance  # noqa: F401
from .scaling import (base_raising, cited_scaling, frequency_curves, llama3, ntk_aware, pitfalls,  # noqa: F401
                      training_arcs, yarn)

LECTURE = "03"
BUILDERS = data_builders.builders(LECTURE)
"""Topic id -> the builders that supply its numbers (the kit registry's view of this lecture)."""


def cache_clear() -> None:
    """Forget every cached result of Lecture 3, shared inputs included."""
    data_builders.cache_clear(LECTURE)


__all__ = ["BASE", "BUILDERS", "HEAD_DIM", "LLAMA3_BASE", "as_tensor", "cache_clear", "content", "embed",
           "projections", "rotate", "toeplitz_deviation", "wavelengths"] + [
    fn.__name__ for fns in BUILDERS.values() for fn in fns]
