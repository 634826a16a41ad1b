"""State-space models: S4/S4D discretisation and kernels, Mamba's selective scan (S6), Mamba-2's SSD.

Sources: S4 (Gu et al., arXiv:2111.00396), S4D (Gu et al., arXiv:2206.11893), Mamba (Gu & Dao,
arXiv:2312.00752), Mamba-2 / state space duality (Dao & Gu, arXiv:2405.21060).

A continuous linear SSM ``x'(t) = A x(t) + B u(t)``, ``y(t) = C x(t)`` is discretised with a step ``Δ``
into ``x_k = Ā x_{k−1} + B̄ u_k``, ``y_k = C x_k``. Unrolled from ``x_{−1} = 0`` this is a causal
convolution ``y = K * u`` with kernel ``K_l = C Ā^l B̄``. Every function here takes a *diagonal* ``A``
given as the vector of its diagonal entries (real or complex).

Complex conventions (S4D): a real SSM with complex-diagonal ``A`` has its eigenvalues in conjugate pairs.
Pass all ``N`` modes and take ``Re`` (``conj_pairs=False``, the default), or keep one mode of each pair
and pass ``conj_pairs=True``: the output is then ``2·Re(...)`` — the factor 2 of ``s4d.py``'s
``2 * K.real`` and of ``selective_scan_ref``'s ``y.real * 2``.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._checks import check_choice, check_floating, check_positive_int, check_tensor
from .trace import emit

__all__ = [
    "discretize_bilinear",
    "discretize_zoh",
    "s4d_kernel",
    "segsum",
    "selective_scan",
    "ssd",
    "ssm_convolution",
    "ssm_recurrence",
]


def _as_tensor(name: str, x, like: torch.Tensor) -> torch.Tensor:
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return torch.tensor(x, dtype=like.real.dtype if like.is_complex() else like.dtype, device=like.device)
    return check_tensor(name, x)


def discretize_zoh(A: torch.Tensor, B: torch.Tensor, delta) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-order-hold discretisation of a diagonal SSM (S4 arXiv:2111.00396; Mamba arXiv:2312.00752 eq. 4).

    ``A`` holds the diagonal entries ``(..., N)`` (real or complex); ``B`` broadcasts against ``A``;
    ``delta`` is a number or a tensor broadcastable against ``A`` (e.g. ``(H, 1)`` for one step per channel).

    Returns ``(Ā, B̄)`` with ``Ā = exp(ΔA)`` and ``B̄ = (ΔA)^{-1}(exp(ΔA) − I) ΔB``, elementwise for a
    diagonal ``A``; at ``A_n = 0`` the limit ``B̄_n = Δ B_n`` is used.
    """
    check_tensor("A", A)
    check_tensor("B", B)
    delta = _as_tensor("delta", delta, A)
    dA = delta * A  # ΔA
    A_bar = torch.exp(dA)  # Ā = exp(ΔA)
    zero = dA == 0
    ratio = torch.where(zero, torch.ones_like(dA), torch.expm1(dA) / torch.where(zero, torch.ones_like(dA), dA))
    B_bar = ratio * (delta * B)  # B̄ = (ΔA)^{-1}(exp(ΔA) − I) · ΔB
    return A_bar, B_bar


def discretize_bilinear(A: torch.Tensor, B: torch.Tensor, delta) -> tuple[torch.Tensor, torch.Tensor]:
    """Bilinear (Tustin) discretisation of a diagonal SSM, as in S4 (arXiv:2111.00396 eq. 3).

    ``Ā = (I − Δ/2·A)^{-1}(I + Δ/2·A)``, ``B̄ = (I − Δ/2·A)^{-1} ΔB``, elementwise for a diagonal ``A``.
    """
    check_tensor("A", A)
    check_tensor("B", B)
    delta = _as_tensor("delta", delta, A)
    inv = 1.0 / (1.0 - delta / 2 * A)  # (I − Δ/2 A)^{-1}
    return inv * (1.0 + delta / 2 * A), inv * (delta * B)


def s4d_kernel(A: torch.Tensor, B: torch.Tensor, C: torch.Tensor, delta, length: int,
               conj_pairs: bool = False) -> torch.Tensor:
    """S4D convolution kernel with ZOH (S4D arXiv:2206.11893, eq. 6 / Vandermonde form).

    ``A, B, C``: ``(..., N)`` (diagonal ``A``; real or complex); ``delta``: a number or a tensor of shape
    ``A.shape[:-1]`` (one step per channel). Returns the real kernel ``(..., length)``::

        K_l = Re( Σ_n C_n B̄_n Ā_n^l ),   Ā_n^l = exp(l·Δ A_n)     (×2 when ``conj_pairs``)

    With real ``A, B, C`` the ``Re`` does nothing. S4D's code folds ``B`` into ``C`` and keeps ``N/2``
    conjugate-pair modes with the factor 2: ``s4d_kernel(..., conj_pairs=True)`` with ``B = 1`` is that.
    """
    for name, t in (("A", A), ("B", B), ("C", C)):
        check_tensor(name, t)
    check_positive_int("length", length)
    if A.shape[-1] != B.shape[-1] or A.shape[-1] != C.shape[-1]:
        raise ValueError(
            f"A, B, C must share the state size N (last dim), got A {tuple(A.shape)}, B {tuple(B.shape)}, "
            f"C {tuple(C.shape)}"
        )
    delta = _as_tensor("delta", delta, A)
    if delta.dim() > 0:
        delta = delta[..., None]  # one Δ per channel, broadcast over the N modes
    dA = delta * A
    _, B_bar = discretize_zoh(A, B, delta)
    ell = torch.arange(length, device=A.device, dtype=dA.real.dtype if dA.is_complex() else dA.dtype)
    powers = torch.exp(dA[..., None] * ell)  # Ā_n^l = exp(l Δ A_n)      (..., N, L)
    K = torch.einsum("...n,...nl->...l", C * B_bar, powers)  # Σ_n C_n B̄_n Ā_n^l
    K = K.real if K.is_complex() else K
    return 2 * K if conj_pairs else K


def ssm_convolution(u: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Causal convolution ``y_t = Σ_{s≤t} K_{t−s} u_s`` via FFT (S4 arXiv:2111.00396, §3.3).

    ``u``: ``(..., L)`` real; ``kernel``: ``(..., L_k)`` real, broadcast against ``u``'s leading dims
    (only its first ``L`` taps matter). Both are zero-padded to ``2L`` so the circular FFT convolution
    equals the linear one (no wrap-around): ``y = irfft(rfft(u, 2L) · rfft(K, 2L))[:L]``.
    """
    check_tensor("u", u)
    check_tensor("kernel", kernel)
    if u.is_complex() or kernel.is_complex():
        raise TypeError(f"u and kernel must be real, got {u.dtype} and {kernel.dtype}")
    L = u.shape[-1]
    kernel = kernel[..., :L]
    if L == 0:  # no steps: the empty output (rfft refuses n = 0)
        return u * kernel
    n = 2 * L
    y = torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(kernel, n=n), n=n)
    return y[..., :L]


def ssm_recurrence(u: torch.Tensor, A_bar: torch.Tensor, B_bar: torch.Tensor, C: torch.Tensor,
                   conj_pairs: bool = False, trace=None, return_state: bool = False):
    """Run a discrete diagonal SSM step by step (S4 arXiv:2111.00396 eq. 2)::

        x_k = Ā x_{k−1} + B̄ u_k,   x_{−1} = 0,    y_k = Re(C x_k)      (×2 when ``conj_pairs``)

    ``u``: ``(..., L)``; ``A_bar, B_bar, C``: ``(..., N)`` broadcast against ``u``'s leading dims.
    ``trace`` gets ``"ssm.step"`` per step with the state ``x`` ``(..., N)`` and ``y`` ``(...)``.
    Returns ``y`` ``(..., L)`` (and the last state ``x`` when ``return_state``).
    """
    for name, t in (("u", u), ("A_bar", A_bar), ("B_bar", B_bar), ("C", C)):
        check_tensor(name, t)
    if not (A_bar.shape[-1] == B_bar.shape[-1] == C.shape[-1]):
        raise ValueError(
            f"A_bar, B_bar, C must share the state size N (last dim), got {tuple(A_bar.shape)}, "
            f"{tuple(B_bar.shape)}, {tuple(C.shape)}"
        )
    shape = torch.broadcast_shapes((*u.shape[:-1], 1), A_bar.shape, B_bar.shape, C.shape)
    dtype = torch.promote_types(torch.promote_types(u.dtype, A_bar.dtype), torch.promote_types(B_bar.dtype, C.dtype))
    x = torch.zeros(shape, dtype=dtype, device=u.device)
    ys = []
    for k in range(u.shape[-1]):
        x = A_bar * x + B_bar * u[..., k, None]  # x_k = Ā x_{k−1} + B̄ u_k
        y = (C * x).sum(-1)  # C x_k
        y = y.real if y.is_complex() else y
        y = 2 * y if conj_pairs else y
        ys.append(y)
        emit(trace, "ssm.step", (k,), x=x, y=y)
    if ys:
        y = torch.stack(ys, dim=-1)
    else:  # L = 0: the empty output (..., 0); the state stays x_{−1} = 0
        y = (x.real if x.is_complex() else x).sum(-1)[..., None][..., :0]
    return (y, x) if return_state else y


# ------------------------------------------------------------------------------------------------
# Mamba (S6): selective scan
# ------------------------------------------------------------------------------------------------

def _scan_input(name: str, M: torch.Tensor, batch: int, dim: int, dstate: int, L: int) -> torch.Tensor:
    """Bring B or C to a shape broadcastable to (batch, dim, L, N)."""
    if M.dim() == 2:  # (D, N): time-invariant
        if M.shape != (dim, dstate):
            raise ValueError(f"{name} of 2 dims must be (D, N) = {(dim, dstate)}, got {tuple(M.shape)}")
        return M[None, :, None, :].expand(1, dim, L, dstate)
    if M.dim() == 3:  # (B, N, L): selective, shared by all channels
        if M.shape != (batch, dstate, L):
            raise ValueError(
                f"{name} of 3 dims must be (B, N, L) = {(batch, dstate, L)} (N from A (D, N)), got {tuple(M.shape)}"
            )
        return M.transpose(1, 2)[:, None]
    if M.dim() == 4:  # (B, G, N, L): selective, channel d uses group d // (D/G)
        G = M.shape[1]
        if M.shape[0] != batch or M.shape[2:] != (dstate, L) or G == 0 or dim % G != 0:
            raise ValueError(
                f"{name} of 4 dims must be (B, G, N, L) = ({batch}, G, {dstate}, {L}) with G dividing D={dim}, "
                f"got {tuple(M.shape)}"
            )
        return M.repeat_interleave(dim // G, dim=1).transpose(-1, -2)
    raise ValueError(f"{name} must have shape (D, N), (B, N, L) or (B, G, N, L), got {tuple(M.shape)}")


def selective_scan(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False,
                   method="sequential", trace=None, return_last_state=False):
    """Mamba's selective scan S6 (Gu & Dao, arXiv:2312.00752, Algorithm 2), with the argument meaning and
    shapes of ``mamba_ssm``'s ``selective_scan_ref``.

    Args:
        u: ``(B, D, L)`` input; delta: ``(B, D, L)`` step sizes Δ (before bias/softplus).
        A: ``(D, N)`` real (S4D-real, negative) or complex.
        B, C: ``(D, N)`` time-invariant, ``(B, N, L)`` selective, or ``(B, G, N, L)`` grouped (channel ``d``
            uses group ``d // (D/G)``). With complex ``A`` pass complex tensors (``selective_scan_ref`` packs
            them as real pairs instead) — the output then takes ``2·Re`` (conjugate-pair convention).
        D: ``(D,)`` skip; z: ``(B, D, L)`` gate; delta_bias: ``(D,)``; delta_softplus: apply softplus to Δ.
        method: ``"sequential"`` (a loop over time) or ``"parallel"`` (Hillis–Steele associative scan).
        trace: sequential emits ``"scan.step"`` per token with the hidden state ``h`` ``(B, D, N)``, the
            output column ``y`` ``(B, D)`` (after D and z), ``dA`` = Ā_t and ``dBu`` = B̄_t u_t ``(B, D, N)``;
            parallel emits ``"scan.level"`` per doubling level with the partial products ``a``, ``b``.
        return_last_state: also return the last hidden state ``(B, D, N)``.

    Per step (ZOH for A; Euler ``B̄ = ΔB`` for B, as in the reference)::

        Δ = softplus(delta + delta_bias)              (bias/softplus when given)
        h_t = exp(Δ_t A) ⊙ h_{t−1} + Δ_t B_t u_t      h: (B, D, N), h_{−1} = 0
        y_t = (h_t · C_t + D u_t) · silu(z_t)

    Computed in float64 for float64 input, otherwise float32, and cast back to ``u.dtype``.
    """
    check_tensor("u", u, ndim=3)
    check_tensor("delta", delta)
    check_tensor("A", A, ndim=2)
    check_tensor("B", B)
    check_tensor("C", C)
    check_choice("method", method, ("sequential", "parallel"))
    batch, dim, L = u.shape
    if delta.shape != u.shape:
        raise ValueError(f"delta must have the shape of u (B, D, L) = {tuple(u.shape)}, got {tuple(delta.shape)}")
    if A.shape[0] != dim:
        raise ValueError(f"A must be (D, N) with D = {dim} (from u), got {tuple(A.shape)}")
    dstate = A.shape[1]
    if D is not None and tuple(check_tensor("D", D).shape) != (dim,):
        raise ValueError(f"D must have shape (D,) = ({dim},), got {tuple(D.shape)}")
    if z is not None and tuple(check_tensor("z", z).shape) != tuple(u.shape):
        raise ValueError(f"z must have the shape of u {tuple(u.shape)}, got {tuple(z.shape)}")
    if delta_bias is not None and tuple(check_tensor("delta_bias", delta_bias).shape) != (dim,):
        raise ValueError(f"delta_bias must have shape (D,) = ({dim},), got {tuple(delta_bias.shape)}")

    dtype_in = u.dtype
    rdtype = torch.float64 if u.dtype == torch.float64 else torch.float32
    u = u.to(rdtype)
    delta = delta.to(rdtype)
    if delta_bias is not None:
        delta = delta + delta_bias.to(rdtype)[:, None]  # delta + delta_bias
    if delta_softplus:
        delta = F.softplus(delta)  # Δ = softplus(·)
    cdtype = torch.complex128 if rdtype == torch.float64 else torch.complex64
    is_complex = A.is_complex() or B.is_complex() or C.is_complex()
    sdtype = cdtype if is_complex else rdtype
    A = A.to(sdtype)
    Bn = _scan_input("B", B, batch, dim, dstate, L).to(sdtype)  # broadcastable to (B, D, L, N)
    Cn = _scan_input("C", C, batch, dim, dstate, L).to(sdtype)
    Dv = None if D is None else D.to(rdtype)
    gate = None if z is None else F.silu(z.to(rdtype))  # silu(z)

    dA = torch.exp(delta[..., None] * A[None, :, None, :])  # Ā_t = exp(Δ_t A)       (B, D, L, N)
    dBu = delta[..., None] * Bn * u[..., None]  # B̄_t u_t = Δ_t B_t u_t                  (B, D, L, N)

    def finish(y_ssm, t=None):
        # y = 2·Re(C·h) for complex modes; + D u; · silu(z)
        y = 2 * y_ssm.real if y_ssm.is_complex() else y_ssm
        ut = u if t is None else u[:, :, t]
        if Dv is not None:
            y = y + (Dv[:, None] if t is None else Dv) * ut
        if gate is not None:
            y = y * (gate if t is None else gate[:, :, t])
        return y

    if method == "sequential":
        h = torch.zeros(batch, dim, dstate, dtype=sdtype, device=u.device)
        ys = []
        for t in range(L):
            h = dA[:, :, t] * h + dBu[:, :, t]  # h_t = Ā_t h_{t−1} + B̄_t u_t
            y_t = finish((h * Cn[:, :, t]).sum(-1), t)  # y_t = C_t · h_t (+ D u_t)(· silu z_t)
            ys.append(y_t)
            emit(trace, "scan.step", (t,), h=h, y=y_t, dA=dA[:, :, t], dBu=dBu[:, :, t])
        out = torch.stack(ys, dim=2) if L else u.new_zeros(batch, dim, 0)
        last = h
    else:
        hs = _associative_scan(dA, dBu, trace)  # all h_t at once   (B, D, L, N)
        out = finish((hs * Cn).sum(-1))
        last = hs[:, :, -1] if L else torch.zeros(batch, dim, dstate, dtype=sdtype, device=u.device)
    out = out.to(dtype_in)
    return (out, last) if return_last_state else out


def _associative_scan(a: torch.Tensor, b: torch.Tensor, trace=None) -> torch.Tensor:
    """Inclusive scan of ``h_t = a_t h_{t−1} + b_t`` along dim 2 (Hillis–Steele, log2 L levels).

    The pairs ``(a, b)`` compose associatively: ``(a₁, b₁) then (a₂, b₂) = (a₂a₁, a₂b₁ + b₂)``. Level ``k``
    combines each position with the one ``2^k`` before it. Only products of decays ``|Ā| ≤ 1`` appear —
    unlike a log-space ``cumsum(log Ā)`` formulation, nothing is divided by a vanishing cumulative product.
    """
    L = a.shape[2]
    d, level = 1, 0
    while d < L:
        b = torch.cat([b[:, :, :d], a[:, :, d:] * b[:, :, :-d] + b[:, :, d:]], dim=2)  # b ← a_t b_{t−d} + b_t
        a = torch.cat([a[:, :, :d], a[:, :, d:] * a[:, :, :-d]], dim=2)  # a ← a_t a_{t−d}
        emit(trace, "scan.level", (level,), offset=d, a=a, b=b)
        d, level = 2 * d, level + 1
    return b


# ------------------------------------------------------------------------------------------------
# Mamba-2: state space duality (SSD)
# ------------------------------------------------------------------------------------------------

def segsum(a: torch.Tensor) -> torch.Tensor:
    """Segment sums ``out[..., i, j] = a_{j+1} + … + a_i`` for ``i ≥ j`` and ``−inf`` for ``i < j``
    (Mamba-2 arXiv:2405.21060, Listing 1), so ``exp(segsum(a))`` is the 1-semiseparable decay mask ``L``.

    Built by a masked cumulative sum, not as ``cumsum_i − cumsum_j`` (that difference can round to a
    small positive number where it should be 0 or negative). ``a``: ``(..., T)`` → ``(..., T, T)``.
    """
    check_tensor("a", a)
    check_floating("a", a)
    T = a.shape[-1]
    x = a[..., None].expand(*a.shape, T)  # x[..., i, j] = a_i
    strict = torch.ones(T, T, dtype=torch.bool, device=a.device).tril(-1)
    x = x.masked_fill(~strict, 0.0).cumsum(dim=-2)  # Σ_{k ≤ i, k > j} a_k
    keep = torch.ones(T, T, dtype=torch.bool, device=a.device).tril()
    return x.masked_fill(~keep, -math.inf)


def _ssd_groups(name: str, M: torch.Tensor, batch: int, L: int, H: int) -> torch.Tensor:
    """(B, L, N) or (B, L, G, N) → (B, L, H, N); head h uses group h // (H/G)."""
    if M.dim() == 3:
        if M.shape[:2] != (batch, L):
            raise ValueError(f"{name} of 3 dims must be (B, L, N) with (B, L) = {(batch, L)}, got {tuple(M.shape)}")
        return M[:, :, None, :].expand(batch, L, H, M.shape[-1])
    if M.dim() == 4:
        G = M.shape[2]
        if M.shape[:2] != (batch, L) or G == 0 or H % G != 0:
            raise ValueError(
                f"{name} of 4 dims must be (B, L, G, N) with (B, L) = {(batch, L)} and G dividing H={H}, "
                f"got {tuple(M.shape)}"
            )
        return M.repeat_interleave(H // G, dim=2)
    raise ValueError(f"{name} must have shape (B, L, N) or (B, L, G, N), got {tuple(M.shape)}")


def ssd(x, dt, A, B, C, chunk: int = 64, form: str = "chunked", trace=None, return_final_state: bool = False):
    """Mamba-2 state space duality (Dao & Gu, arXiv:2405.21060), scalar-times-identity ``A`` per head.

    Args:
        x: ``(B, L, H, P)``; dt: ``(B, L, H)`` step sizes (already positive, e.g. after softplus);
        A: ``(H,)`` (negative for decay); B, C: ``(B, L, G, N)`` with ``G`` dividing ``H`` (head ``h`` uses
        group ``h // (H/G)``) or ``(B, L, N)`` shared by all heads.
        chunk: chunk length ``Q`` for the chunked form (need not divide ``L``).
        form: ``"chunked"`` (the paper's block decomposition), ``"quadratic"`` (masked-attention form) or
            ``"recurrent"`` (per step) — same numbers.
        trace: chunked emits ``"ssd.chunk"`` per chunk with ``state_in`` (state entering it), ``chunk_state``
            (what the chunk adds), ``decay`` (its total decay) and ``state`` (state after it), all
            ``(B, H, P, N)``, and ``y`` (its outputs); recurrent emits ``"ssd.step"`` with ``h`` and ``y``.
        return_final_state: also return the state after the last token ``(B, H, P, N)``.

    Recurrence (``a_t = Δ_t A``, the discrete SSM that ``ssd_minimal_discrete(x·dt, A·dt, B, C)`` solves)::

        h_t = exp(a_t) h_{t−1} + (Δ_t x_t) B_tᵀ,     y_t = h_t C_t

    Duality: ``Y = (L ∘ C Bᵀ)(Δ X)`` with ``L_ij = exp(a_{j+1} + … + a_i)`` for ``i ≥ j`` (else 0).
    """
    check_tensor("x", x, ndim=4)
    check_tensor("dt", dt, ndim=3)
    check_tensor("A", A, ndim=1)
    check_tensor("B", B)
    check_tensor("C", C)
    check_positive_int("chunk", chunk)
    check_choice("form", form, ("chunked", "quadratic", "recurrent"))
    batch, L, H, P = x.shape
    if dt.shape != (batch, L, H):
        raise ValueError(f"dt must have shape (B, L, H) = {(batch, L, H)}, got {tuple(dt.shape)}")
    if A.shape != (H,):
        raise ValueError(f"A must have shape (H,) = ({H},), got {tuple(A.shape)}")
    if B.shape != C.shape:
        raise ValueError(f"B and C must have the same shape, got B {tuple(B.shape)} and C {tuple(C.shape)}")
    dtype_in = x.dtype
    cd = torch.float64 if x.dtype == torch.float64 else torch.float32
    Bh = _ssd_groups("B", B, batch, L, H).to(cd)  # (B, L, H, N)
    Ch = _ssd_groups("C", C, batch, L, H).to(cd)
    N = Bh.shape[-1]
    X = x.to(cd) * dt.to(cd)[..., None]  # Δ_t x_t           (B, L, H, P)
    a = dt.to(cd) * A.to(cd)  # a_t = Δ_t A                    (B, L, H)

    if L == 0:  # no steps: an empty output, and the final state is the initial h = 0
        y, final = X, X.new_zeros(batch, H, P, N)
    elif form == "recurrent":
        h = X.new_zeros(batch, H, P, N)
        ys = []
        for t in range(L):
            h = torch.exp(a[:, t])[..., None, None] * h + X[:, t, :, :, None] * Bh[:, t, :, None, :]
            y_t = torch.einsum("bhpn,bhn->bhp", h, Ch[:, t])  # y_t = h_t C_t
            ys.append(y_t)
            emit(trace, "ssd.step", (t,), h=h, y=y_t)
        y = torch.stack(ys, dim=1)
        final = h
    elif form == "quadratic":
        decay = torch.exp(segsum(a.transpose(1, 2)))  # L_ij = exp(segsum(a))_ij      (B, H, L, L)
        scores = torch.einsum("bihn,bjhn->bhij", Ch, Bh)  # C Bᵀ
        y = torch.einsum("bhij,bjhp->bihp", decay * scores, X)  # Y = (L ∘ C Bᵀ) X
        final = torch.einsum("bhj,bjhn,bjhp->bhpn", decay[:, :, -1, :], Bh, X)  # row L−1 of L: decay to end
    else:
        y, final = _ssd_chunked(X, a, Bh, Ch, chunk, trace)
    y = y.to(dtype_in)
    return (y, final) if return_final_state else y


def _ssd_chunked(X, a, Bh, Ch, Q, trace):
    batch, L, H, P = X.shape
    N = Bh.shape[-1]
    nc = -(-L // Q)
    pad = nc * Q - L
    if pad:  # padded steps have a = 0 (decay 1) and input 0: they change no state; their outputs are dropped
        X, Bh, Ch = (F.pad(t, (0, 0, 0, 0, 0, pad)) for t in (X, Bh, Ch))
        a = F.pad(a, (0, 0, 0, pad))
    Xc, Bc, Cc = (t.reshape(batch, nc, Q, H, -1) for t in (X, Bh, Ch))  # (B, c, l, H, ·)
    ac = a.reshape(batch, nc, Q, H).permute(0, 3, 1, 2)  # (B, H, c, l)
    a_cum = ac.cumsum(dim=-1)
    seg = segsum(ac)  # (B, H, c, l, s)

    # 1. Diagonal blocks: the quadratic form inside each chunk, Y_diag = (L_c ∘ C_c B_cᵀ) X_c.
    Y_diag = torch.einsum("bclhn,bcshn,bhcls,bcshp->bclhp", Cc, Bc, torch.exp(seg), Xc)
    # 2. Chunk states: what each chunk adds to the state, decayed to the chunk end:
    #    s_c = Σ_s exp(a_{s+1} + … + a_{Q−1}) X_s B_sᵀ   (last row of the segsum, no cumsum differences).
    decay_to_end = torch.exp(seg[..., -1, :])  # (B, H, c, s)
    states = torch.einsum("bcshn,bhcs,bcshp->bchpn", Bc, decay_to_end, Xc)
    # 3. State passing between chunks: h_c = exp(Σ_chunk a) h_{c−1} + s_c, from h_{−1} = 0.
    chunk_decay = torch.exp(a_cum[..., -1])  # (B, H, c)
    h = X.new_zeros(batch, H, P, N)
    h_in = []
    for c in range(nc):
        h_in.append(h)
        h = chunk_decay[:, :, c, None, None] * h + states[:, c]
    h_in = torch.stack(h_in, dim=1)  # state entering each chunk   (B, c, H, P, N)
    # 4. State to output: the state entering the chunk, decayed to position l, read by C_l.
    Y_off = torch.einsum("bclhn,bchpn,bhcl->bclhp", Cc, h_in, torch.exp(a_cum))
    Yc = Y_diag + Y_off
    if trace is not None:
        for c in range(nc):
            n_valid = min(Q, L - c * Q)
            state = states[:, c] + chunk_decay[:, :, c, None, None] * h_in[:, c]
            emit(trace, "ssd.chunk", (c,), state_in=h_in[:, c], chunk_state=states[:, c],
                 decay=chunk_decay[:, :, c], state=state, y=Yc[:, c, :n_valid])
    y = Yc.reshape(batch, nc * Q, H, P)[:, :L]
    return y, h
