"""Rotary position embedding (RoPE) and its context-extension scalings.

RoPE (Su et al. 2021, arXiv:2104.09864) rotates each pair of query/key channels by an angle
proportional to the token position, so that the score between a query at position m and a key at
position n depends on the positions only through n - m:

    theta_{p,i} = p * inv_freq_i,         inv_freq_i = base^(-2i/d),   i = 0 .. d/2 - 1
    <R_m q, R_n k> = <q, R_{n-m} k>

Pairing is explicit (docs/conventions.md): ``"half"`` pairs channel i with i + d/2 (GPT-NeoX, HF ``rotate_half``),
``"interleaved"`` pairs 2i with 2i + 1 (GPT-J, Meta, RoFormer, DeepSeek). Both are the same map up to a
fixed permutation of the head channels (:func:`rope_permutation`).

Scalings (:class:`RopeScaling`) change ``inv_freq`` (and for YaRN a logit temperature), with the
semantics of HF ``modeling_rope_utils.py``:
``linear`` (position interpolation, arXiv:2306.15595), ``ntk`` (static NTK-aware base change, bloc97
2023; the older HF ``ntk`` kind), ``dynamic_ntk`` (NTK-aware base change driven by the current length),
``yarn`` (arXiv:2309.00071, with DeepSeek's ``mscale``/``mscale_all_dim``) and ``llama3`` (Llama 3.1
wavelength bands, arXiv:2407.21783). :func:`rope_decay_bound` is RoFormer's long-term decay bound.
Angles are computed in float64 whatever the input dtype (bf16 angles destroy long positions).
"""

from __future__ import annotations

import math

import torch

from ._checks import check_choice, check_floating, check_positive_int, check_scale, check_tensor

__all__ = [
    "Rope",
    "RopeScaling",
    "apply_rope",
    "permute_rope_weight",
    "rope_decay_bound",
    "rope_frequencies",
    "rope_permutation",
    "yarn_get_mscale",
]

PAIRINGS = ("half", "interleaved")

# Per-kind parameters and their defaults (HF names in comments).
_KIND_DEFAULTS: dict[str, dict] = {
    "linear": {},
    "ntk": {},
    "dynamic_ntk": {},
    # beta_fast/beta_slow: rotations bounding the ramp; attention_factor overrides 0.1 ln(s) + 1;
    # mscale/mscale_all_dim: DeepSeek's ratio form; truncate: floor/ceil the correction range.
    "yarn": {
        "beta_fast": 32.0,
        "beta_slow": 1.0,
        "attention_factor": None,
        "mscale": None,
        "mscale_all_dim": None,
        "truncate": True,
    },
    "llama3": {"low_freq_factor": 1.0, "high_freq_factor": 4.0},
}


class RopeScaling:
    """A RoPE context-extension scaling: ``RopeScaling(kind, factor, original_max_position=None, **params)``.

    kind                 what it does to ``inv_freq_i = base^(-2i/d)``
    ``"linear"``         ``inv_freq / s`` (position interpolation, Chen et al. 2023, arXiv:2306.15595)
    ``"ntk"``            static NTK-aware: ``base' = base * s^(d/(d-2))`` whatever the length (bloc97, 2023;
                         the highest frequency is unchanged, the lowest is divided by exactly s)
    ``"dynamic_ntk"``    ``base' = base * (s*L/L0 - (s-1))^(d/(d-2))`` with ``L = max(len, L0)``
    ``"yarn"``           ramp between interpolation and extrapolation, temperature ``0.1 ln s + 1``
                         (Peng et al. 2023, arXiv:2309.00071; params beta_fast=32, beta_slow=1; the ramp is
                         linear in the channel index, as in the authors' code and HF). DeepSeek's
                         ``mscale``/``mscale_all_dim`` give the factor
                         ``yarn_get_mscale(s, mscale) / yarn_get_mscale(s, mscale_all_dim)``
                         (:func:`yarn_get_mscale`); ``attention_factor`` overrides it.
    ``"llama3"``         wavelength bands of Llama 3.1 (low_freq_factor=1, high_freq_factor=4, L0=8192)

    ``original_max_position`` (L0) is the pre-training context; required for ``dynamic_ntk`` and ``yarn``,
    8192 by default for ``llama3``.
    """

    def __init__(self, kind: str, factor: float, original_max_position: int | None = None, **kind_params):
        check_choice("kind", kind, _KIND_DEFAULTS)
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not factor > 0:
            raise ValueError(f"factor must be a number > 0, got {factor!r}")
        if kind == "llama3" and original_max_position is None:
            original_max_position = 8192
        if kind in ("dynamic_ntk", "yarn") and original_max_position is None:
            raise ValueError(f"original_max_position is required for kind={kind!r}, got None")
        check_positive_int("original_max_position", original_max_position, allow_none=True)
        unknown = set(kind_params) - set(_KIND_DEFAULTS[kind])
        if unknown:
            raise ValueError(
                f"unknown parameters for kind={kind!r}: {sorted(unknown)}; "
                f"expected a subset of {sorted(_KIND_DEFAULTS[kind])}"
            )
        params = dict(_KIND_DEFAULTS[kind])
        params.update(kind_params)
        if kind == "llama3" and not params["high_freq_factor"] > params["low_freq_factor"]:
            raise ValueError(
                "high_freq_factor must be > low_freq_factor, got "
                f"high_freq_factor={params['high_freq_factor']}, low_freq_factor={params['low_freq_factor']}"
            )
        self.kind = kind
        self.factor = float(factor)
        self.original_max_position = original_max_position
        self.params = params

    def __getattr__(self, name):  # kind parameters read as attributes: scaling.beta_fast
        params = self.__dict__.get("params", {})
        if name in params:
            return params[name]
        raise AttributeError(name)

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return (
            f"RopeScaling(kind={self.kind!r}, factor={self.factor}, "
            f"original_max_position={self.original_max_position}{extra})"
        )

    def __eq__(self, other) -> bool:
        return isinstance(other, RopeScaling) and (
            (self.kind, self.factor, self.original_max_position, self.params)
            == (other.kind, other.factor, other.original_max_position, other.params)
        )


def yarn_get_mscale(scale: float, mscale: float = 1.0) -> float:
    """YaRN's logit temperature factor sqrt(1/t) = 0.1 · mscale · ln(s) + 1 for s > 1, else 1
    (Peng et al. 2023, arXiv:2309.00071, eq. 22 with mscale = 1; DeepSeek's ``yarn_get_mscale``).

    DeepSeek-V2 (arXiv:2405.04434; HF config ``rope_scaling``: factor 40, mscale 0.707, mscale_all_dim 0.707)
    multiplies cos and sin by ``yarn_get_mscale(s, mscale) / yarn_get_mscale(s, mscale_all_dim)`` (= 1 there)
    and its softmax scale by ``yarn_get_mscale(s, mscale_all_dim)²`` ≈ 1.5896 at s = 40.
    """
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale > 0:
        raise ValueError(f"scale must be a number > 0, got {scale!r}")
    if isinstance(mscale, bool) or not isinstance(mscale, (int, float)):
        raise TypeError(f"mscale must be a number, got {type(mscale).__name__} {mscale!r}")
    return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0


_yarn_mscale = yarn_get_mscale


def rope_frequencies(
    head_dim: int, base: float = 10000.0, scaling: RopeScaling | None = None, max_position: int | None = None
) -> tuple[torch.Tensor, float]:
    """Return ``(inv_freq, attention_factor)``: float64 ``inv_freq`` of shape ``(head_dim // 2,)``.

    Plain RoPE (arXiv:2104.09864): ``inv_freq_i = 1 / base^(2i/d)``, attention_factor 1.
    ``max_position`` is the current sequence length; only ``dynamic_ntk`` uses it (base change when it
    exceeds ``original_max_position``). A factor of 1 gives plain RoPE for every kind (for ``dynamic_ntk``
    only up to ``original_max_position``: beyond it the base still grows, as in HF).
    """
    check_positive_int("head_dim", head_dim)
    if head_dim % 2:
        raise ValueError(f"head_dim must be even (channels are rotated in pairs), got {head_dim}")
    if not 0 < base < math.inf:
        raise ValueError(f"base must be > 0 and finite, got {base!r}")
    check_positive_int("max_position", max_position, allow_none=True)
    if scaling is not None and not isinstance(scaling, RopeScaling):
        raise TypeError(f"scaling must be a RopeScaling or None, got {type(scaling).__name__}")
    d = head_dim
    i2 = torch.arange(0, d, 2, dtype=torch.float64)  # 2i
    inv_freq = 1.0 / base ** (i2 / d)  # base^(-2i/d)
    if scaling is None:
        return inv_freq, 1.0
    s, L0, kind = scaling.factor, scaling.original_max_position, scaling.kind

    if kind == "linear":  # PI: theta = (p / s) * inv_freq
        return inv_freq / s, 1.0

    if kind == "ntk":  # static NTK-aware: base' = base · s^(d/(d−2))
        if d <= 2:
            raise ValueError(f"head_dim must be > 2 for ntk (exponent d/(d-2)), got {head_dim}")
        new_base = base * s ** (d / (d - 2))
        return 1.0 / new_base ** (i2 / d), 1.0

    if kind == "dynamic_ntk":
        if d <= 2:
            raise ValueError(f"head_dim must be > 2 for dynamic_ntk (exponent d/(d-2)), got {head_dim}")
        L = max(max_position or L0, L0)  # no change inside the trained context
        new_base = base * ((s * L / L0) - (s - 1)) ** (d / (d - 2))
        return 1.0 / new_base ** (i2 / d), 1.0

    if kind == "yarn":
        p = scaling.params
        if p["attention_factor"] is not None:
            attention_factor = float(p["attention_factor"])
        else:
            # DeepSeek's DeepseekV2YarnRotaryEmbedding: get(s, mscale) / get(s, mscale_all_dim) with defaults
            # mscale = 1, mscale_all_dim = 0, so neither given is YaRN's 0.1 ln(s) + 1.
            m = 1.0 if p["mscale"] is None else p["mscale"]
            m_all = 0.0 if p["mscale_all_dim"] is None else p["mscale_all_dim"]
            attention_factor = yarn_get_mscale(s, m) / yarn_get_mscale(s, m_all)

        def correction_dim(rotations: float) -> float:
            # the channel index whose wavelength fits `rotations` times into L0
            return d * math.log(L0 / (rotations * 2 * math.pi)) / (2 * math.log(base))

        low, high = correction_dim(p["beta_fast"]), correction_dim(p["beta_slow"])
        if p["truncate"]:
            low, high = math.floor(low), math.ceil(high)
        low, high = max(low, 0), min(high, d - 1)
        if low == high:
            high += 0.001  # avoid 0/0 in the ramp
        ramp = ((torch.arange(d // 2, dtype=torch.float64) - low) / (high - low)).clamp(0, 1)
        extrapolate = 1 - ramp  # 1: keep inv_freq, 0: divide by s
        inv_freq = (inv_freq / s) * (1 - extrapolate) + inv_freq * extrapolate
        return inv_freq, attention_factor

    # llama3: wavelengths longer than L0/low_ff are interpolated (/s), shorter than L0/high_ff kept,
    # and a smooth blend in between (HF _compute_llama3_parameters).
    lo_ff, hi_ff = scaling.params["low_freq_factor"], scaling.params["high_freq_factor"]
    wavelen = 2 * math.pi / inv_freq
    low_freq_wavelen, high_freq_wavelen = L0 / lo_ff, L0 / hi_ff
    smooth = (L0 / wavelen - lo_ff) / (hi_ff - lo_ff)  # 0 at low_freq_wavelen, 1 at high
    blended = (1 - smooth) * inv_freq / s + smooth * inv_freq
    out = torch.where(wavelen > low_freq_wavelen, inv_freq / s, blended)
    out = torch.where(wavelen < high_freq_wavelen, inv_freq, out)
    return out, 1.0


def rope_decay_bound(distances, head_dim: int = 128, base: float = 10000.0,
                     inv_freq: torch.Tensor | None = None) -> torch.Tensor:
    """RoFormer's long-term decay bound as a function of the relative distance r (Su et al. 2021,
    arXiv:2104.09864, §3.4.3 and Fig. 2), float64, shape of ``distances``::

        B(r) = (1 / (d/2)) Σ_{j=1}^{d/2} |S_j(r)|,     S_j(r) = Σ_{k=0}^{j−1} e^{i r θ_k},   θ_k = base^{−2k/d}

    By Abel summation |Σ_k h_k e^{i r θ_k}| ≤ max_k |h_{k+1} − h_k| · Σ_j |S_j(r)|, so B(r) bounds the
    RoPE score (up to the factor max |h_{k+1} − h_k| · d/2) at relative distance r; it decays (not
    monotonically) as r grows. At r = 0, S_j = j and B(0) = (d/2 + 1)/2. ``inv_freq`` (e.g. from
    :func:`rope_frequencies` with a scaling) replaces the θ_k.
    """
    if inv_freq is None:
        inv_freq, _ = rope_frequencies(head_dim, base)
    else:
        check_tensor("inv_freq", inv_freq, ndim=1)
    r = torch.as_tensor(distances, dtype=torch.float64)
    theta = inv_freq.to(torch.float64)
    phase = torch.exp(1j * r[..., None] * theta)  # e^{i r θ_k}, (..., d/2)
    partial = phase.cumsum(dim=-1)  # S_j = Σ_{k<j} e^{i r θ_k}, j = 1..d/2
    return partial.abs().mean(dim=-1)  # (1/(d/2)) Σ_j |S_j|


def _check_positions(positions, B: int, L: int) -> None:
    """Raise unless ``positions`` is an integer tensor of shape (L,), (1, L) or (B, L)."""
    check_tensor("positions", positions)
    if positions.is_floating_point() or positions.is_complex() or positions.dtype == torch.bool:
        raise TypeError(f"positions must be an integer tensor, got dtype {positions.dtype}")
    if positions.dim() == 1:
        if positions.shape[0] != L:
            raise ValueError(
                f"positions must have length L={L} (the sequence length), got shape {tuple(positions.shape)}"
            )
    elif positions.dim() == 2:
        if positions.shape[1] != L or positions.shape[0] not in (1, B):
            raise ValueError(
                f"positions must have shape (L,) or (B, L) = ({B}, {L}), got shape {tuple(positions.shape)}"
            )
    else:
        raise ValueError(f"positions must have shape (L,) or (B, L), got shape {tuple(positions.shape)}")


def _angles(positions: torch.Tensor, inv_freq: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """theta[..., l, i] = positions[..., l] * inv_freq[i], float64, broadcastable to (B, 1, L, r)."""
    B, _, L, _ = x.shape
    _check_positions(positions, B, L)
    pos = positions[None, None, :] if positions.dim() == 1 else positions[:, None, :]  # (1|B, 1, L)
    return pos.to(torch.float64)[..., None] * inv_freq.to(device=pos.device, dtype=torch.float64)


def apply_rope(
    x: torch.Tensor,
    positions: torch.Tensor,
    inv_freq: torch.Tensor,
    pairing: str = "half",
    attention_factor: float = 1.0,
) -> torch.Tensor:
    """Rotate channel pairs of ``x`` (B, H, L, D) by ``theta = position * inv_freq`` (arXiv:2104.09864).

    For each pair (a, b) and angle theta:
        a' = f (a cos theta - b sin theta),    b' = f (b cos theta + a sin theta)
    with f = ``attention_factor`` (YaRN scales both cos and sin, so q.k scales by f^2).
    pairing ``"half"``: (a, b) = (x_i, x_{i+r}); ``"interleaved"``: (a, b) = (x_{2i}, x_{2i+1});
    r = len(inv_freq).
    When 2r < D (partial rotary, GPT-NeoX) channels 2r.. pass through unchanged.
    ``positions``: integer, shape (L,) or (B, L). ``x`` must be floating point (an integer tensor is
    refused: the rotation is not integer-valued).
    """
    check_tensor("x", x, ndim=4)
    check_floating("x", x)
    check_choice("pairing", pairing, PAIRINGS)
    check_tensor("inv_freq", inv_freq, ndim=1)
    r = inv_freq.shape[0]
    D = x.shape[-1]
    if 2 * r > D:
        raise ValueError(
            f"inv_freq has {r} frequencies, which needs head dim >= {2 * r}, got x.shape[-1]={D}"
        )
    attention_factor = check_scale(attention_factor, "attention_factor")  # a finite number
    theta = _angles(positions, inv_freq, x)  # (B|1, 1, L, r) float64
    cos = (torch.cos(theta) * attention_factor).to(x.dtype)
    sin = (torch.sin(theta) * attention_factor).to(x.dtype)
    rot, rest = x[..., : 2 * r], x[..., 2 * r :]
    if pairing == "half":
        a, b = rot[..., :r], rot[..., r:]
        out = torch.cat([a * cos - b * sin, b * cos + a * sin], dim=-1)
    else:
        a, b = rot[..., 0::2], rot[..., 1::2]
        out = torch.stack([a * cos - b * sin, b * cos + a * sin], dim=-1).flatten(-2)
    return torch.cat([out, rest], dim=-1) if rest.shape[-1] else out


def rope_permutation(head_dim: int, src: str = "interleaved", dst: str = "half") -> torch.Tensor:
    """Channel permutation ``P`` with ``apply_rope(x[..., P], dst) == apply_rope(x, src)[..., P]``.

    interleaved -> half: ``P = [0, 2, 4, ..., 1, 3, 5, ...]`` (pair (2i, 2i+1) lands at (i, i + d/2)),
    the map HF uses to convert Meta Llama checkpoints; half -> interleaved is its inverse.
    """
    check_positive_int("head_dim", head_dim)
    if head_dim % 2:
        raise ValueError(f"head_dim must be even, got {head_dim}")
    check_choice("src", src, PAIRINGS)
    check_choice("dst", dst, PAIRINGS)
    perm = torch.cat([torch.arange(0, head_dim, 2), torch.arange(1, head_dim, 2)])
    if src == dst:
        return torch.arange(head_dim)
    return perm if src == "interleaved" else torch.argsort(perm)


def permute_rope_weight(
    weight: torch.Tensor, n_heads: int, src: str = "interleaved", dst: str = "half"
) -> torch.Tensor:
    """Permute the output rows of a q or k projection weight (n_heads*head_dim, d_in) (or its bias), head by
    head, so a model using ``dst`` pairing computes the same scores as the original with ``src`` pairing.
    """
    check_tensor("weight", weight)
    check_positive_int("n_heads", n_heads)
    if weight.shape[0] % n_heads:
        raise ValueError(
            f"weight.shape[0] must be divisible by n_heads={n_heads}, got shape {tuple(weight.shape)}"
        )
    hd = weight.shape[0] // n_heads
    perm = rope_permutation(hd, src, dst)
    w = weight.reshape(n_heads, hd, *weight.shape[1:])
    return w[:, perm].reshape(weight.shape).clone()


class Rope:
    """RoPE configuration used by :class:`~attn_ref.multihead.MultiHeadAttention`.

    ``Rope(head_dim, base=10000.0, scaling=None, pairing="half")``; ``rope(x, positions)`` applies it to
    x (B, H, L, D), a floating-point tensor (integer input is refused), at integer ``positions``. With
    ``dynamic_ntk`` the base follows ``max(positions) + 1`` of each call; keys already
    in a KV cache keep the base they were rotated with (the same approximation HF makes).
    """

    def __init__(
        self, head_dim: int, base: float = 10000.0, scaling: RopeScaling | None = None, pairing: str = "half"
    ):
        check_choice("pairing", pairing, PAIRINGS)
        rope_frequencies(head_dim, base, scaling)  # validates eagerly
        self.head_dim, self.base, self.scaling, self.pairing = head_dim, float(base), scaling, pairing

    def frequencies(self, max_position: int | None = None) -> tuple[torch.Tensor, float]:
        """``rope_frequencies(head_dim, base, scaling, max_position)``."""
        return rope_frequencies(self.head_dim, self.base, self.scaling, max_position)

    def __call__(
        self, x: torch.Tensor, positions: torch.Tensor, max_position: int | None = None
    ) -> torch.Tensor:
        check_tensor("x", x, ndim=4)
        check_floating("x", x)
        _check_positions(positions, x.shape[0], x.shape[2])
        if max_position is None and self.scaling is not None and self.scaling.kind == "dynamic_ntk":
            max_position = int(positions.max()) + 1 if positions.numel() else None
        inv_freq, attention_factor = self.frequencies(max_position)
        return apply_rope(x, positions, inv_freq, self.pairing, attention_factor)

    def __repr__(self) -> str:
        return (
            f"Rope(head_dim={self.head_dim}, base={self.base}, scaling={self.scaling!r}, "
            f"pairing={self.pairing!r})"
        )
