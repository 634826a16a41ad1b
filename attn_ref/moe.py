"""Mixture-of-experts attention and the routing pieces it is built from.

- :func:`top_k_route`: softmax router, top-k experts per token, renormalised gates, expert capacity
  with dropped assignments reported (Switch Transformer, Fedus et al. 2021, arXiv:2101.03961).
- :func:`switch_load_balancing_loss`: N·Σ_i f_i·P_i (arXiv:2101.03961, eqs. 4–6).
- :func:`router_z_loss`: mean(logsumexp(logits)²) (ST-MoE, Zoph et al. 2022, arXiv:2202.08906).
- :class:`MixtureOfAttentionHeads`: MoA (Zhang et al. 2022, arXiv:2210.05144), per-expert W_q / W_o,
  shared single-head K / V.
- :class:`SwitchHeadAttention`: SwitchHead (Csordás et al. 2023, arXiv:2312.07987), per-head experts
  on the V and O projections with non-competitive sigmoid gates, dense Q / K.

Every layer here is a *reference*: it evaluates every expert densely and combines them with a
(token, expert) weight matrix that is zero off the routed experts, so the result equals sparse
dispatch exactly while the code stays readable.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

from ._checks import check_positive_int, check_tensor
from .core import sdpa, softmax
from .trace import emit

__all__ = [
    "MixtureOfAttentionHeads",
    "Routing",
    "SwitchHeadAttention",
    "router_z_loss",
    "switch_load_balancing_loss",
    "top_k_route",
]


def _check_top_k(top_k, n_experts: int) -> None:
    if isinstance(top_k, bool) or not isinstance(top_k, int):
        raise TypeError(f"top_k must be an int, got {type(top_k).__name__} {top_k!r}")
    if top_k <= 0:
        raise ValueError(f"top_k must be > 0, got {top_k}")
    if top_k > n_experts:
        raise ValueError(f"top_k must be <= n_experts={n_experts}, got top_k={top_k}")


def _check_capacity_factor(capacity_factor) -> None:
    if capacity_factor is None:
        return
    if isinstance(capacity_factor, bool) or not isinstance(capacity_factor, (int, float)):
        raise TypeError(f"capacity_factor must be a number or None, got {type(capacity_factor).__name__}")
    if not math.isfinite(capacity_factor) or capacity_factor <= 0:
        raise ValueError(f"capacity_factor must be a finite number > 0 or None, got {capacity_factor}")


class Routing(NamedTuple):
    """Result of :func:`top_k_route` for T tokens, E experts, k choices per token.

    gates (T, k): softmax renormalised over the chosen experts (rows sum to 1; dropped slots keep
        their gate here, the layers multiply by ``~dropped``).
    expert_index (T, k): chosen experts, most probable first.
    router_probs (T, E): softmax(logits) over all experts.
    dropped (T, k) bool: assignment exceeded its expert's capacity.
    position (T, k): 0-based arrival position of the assignment in its expert's queue.
    tokens_per_expert (E,): assignments per expert before dropping.
    capacity: ceil(capacity_factor·T·k/E), or None (no limit).
    """

    gates: torch.Tensor
    expert_index: torch.Tensor
    router_probs: torch.Tensor
    dropped: torch.Tensor
    position: torch.Tensor
    tokens_per_expert: torch.Tensor
    capacity: int | None


def top_k_route(logits: torch.Tensor, k: int, capacity_factor: float | None = None) -> Routing:
    """Top-k softmax routing with expert capacity (Switch Transformer, arXiv:2101.03961, §2.2).

    p = softmax(logits) over E experts; the k largest p_e are chosen and their gates renormalised,
    g_j = p_{e_j} / Σ_{j'} p_{e_j'} (= softmax over the chosen logits). With a capacity factor each
    expert takes at most C = ceil(capacity_factor·T·k/E) assignments, served in token order (token t's
    choices before token t+1's); later assignments to a full expert are marked ``dropped`` — the
    caller passes those tokens through the residual. Nothing is dropped silently: the count of
    dropped assignments of expert e is max(0, tokens_per_expert[e] − C).

    Args: logits (T, E); k (top_k) in 1..E; capacity_factor > 0 or None.
    """
    check_tensor("logits", logits, ndim=2)
    n_tokens, n_experts = logits.shape
    _check_top_k(k, n_experts)
    _check_capacity_factor(capacity_factor)
    probs = softmax(logits, dim=-1)                                  # p = softmax(x W_g)
    top_p, expert_index = probs.topk(k, dim=-1)                      # k most probable experts
    gates = top_p / top_p.sum(dim=-1, keepdim=True)                  # g_j = p_j / Σ_chosen p
    one_hot = torch.nn.functional.one_hot(expert_index, n_experts)   # (T, k, E)
    flat = one_hot.reshape(n_tokens * k, n_experts)                  # token-major arrival order
    position = ((flat.cumsum(dim=0) - 1) * flat).sum(-1).reshape(n_tokens, k)  # queue slot, 0-based
    tokens_per_expert = flat.sum(dim=0)
    if capacity_factor is None:
        capacity = None
        dropped = torch.zeros_like(expert_index, dtype=torch.bool)
    else:
        capacity = math.ceil(capacity_factor * n_tokens * k / n_experts)  # C = ⌈cf·T·k/E⌉
        dropped = position >= capacity                                    # arrived after C were taken
    return Routing(gates, expert_index, probs, dropped, position, tokens_per_expert, capacity)


def switch_load_balancing_loss(router_probs: torch.Tensor, expert_index: torch.Tensor,
                               n_experts: int) -> torch.Tensor:
    """Switch load-balancing loss  L = N·Σ_i f_i·P_i  (arXiv:2101.03961, eqs. 4–6; without α).

    f_i = (assignments to expert i) / T, counting all k choices of each token (so Σ_i f_i = k),
    P_i = (1/T)·Σ_t p_i(t). Uniform routing (f_i = k/N, P_i = 1/N) gives L = k — 1 for top-1 — and
    total collapse onto one expert (f = P = one-hot) gives L = N. Dropped assignments still count:
    f measures what the router asked for.

    Args: router_probs (T, E) with E == n_experts; expert_index (T,) or (T, k) integer. T = 0 gives 0.
    """
    check_tensor("router_probs", router_probs, ndim=2)
    check_tensor("expert_index", expert_index)
    check_positive_int("n_experts", n_experts)
    if router_probs.shape[1] != n_experts:
        raise ValueError(f"router_probs must have shape (T, n_experts={n_experts}), "
                         f"got {tuple(router_probs.shape)}")
    if expert_index.dim() == 1:
        expert_index = expert_index[:, None]
    if expert_index.dim() != 2 or expert_index.shape[0] != router_probs.shape[0]:
        raise ValueError(f"expert_index must have shape (T,) or (T, k) with T={router_probs.shape[0]}, "
                         f"got {tuple(expert_index.shape)}")
    n_tokens = router_probs.shape[0]
    if n_tokens == 0:  # no tokens, nothing to balance: 0 (f and P would be 0/0)
        return router_probs.sum()
    counts = torch.bincount(expert_index.reshape(-1), minlength=n_experts)[:n_experts]
    f = counts.to(router_probs.dtype) / n_tokens                     # f_i = count_i / T
    p = router_probs.mean(dim=0)                                     # P_i = mean_t p_i(t)
    return n_experts * torch.sum(f * p)                              # L = N·Σ f_i P_i


def router_z_loss(logits: torch.Tensor) -> torch.Tensor:
    """Router z-loss  L_z = (1/T)·Σ_t (log Σ_e exp(z_te))²  (ST-MoE, arXiv:2202.08906, eq. 5).

    ``logits`` (..., E); the mean runs over every leading position; no tokens give 0.
    """
    check_tensor("logits", logits)
    if logits.dim() == 0 or logits.shape[-1] == 0:
        raise ValueError(f"logits must have a non-empty last axis (the experts), got shape {tuple(logits.shape)}")
    if logits.numel() == 0:  # no tokens: 0 (a mean over nothing would be NaN)
        return logits.sum()
    return torch.logsumexp(logits, dim=-1).pow(2).mean()             # mean(logsumexp(z)²)


def _combine_weights(routing: Routing, n_experts: int) -> torch.Tensor:
    """(T, E) weights: w[t, e] = g_{t,j} if expert e is token t's j-th choice and not dropped, else 0."""
    kept = routing.gates * (~routing.dropped).to(routing.gates.dtype)
    w = torch.zeros(routing.gates.shape[0], n_experts, dtype=kept.dtype, device=kept.device)
    return w.scatter_add(1, routing.expert_index, kept)


class MixtureOfAttentionHeads(nn.Module):
    """Mixture of attention heads, MoA (Zhang et al. 2022, arXiv:2210.05144; yikangshen/MoA).

        y_t = Σ_{e ∈ topk(t)} g_e(t) · W_o^e · Attn(W_q^e x_t, K, V),   K = X W_k, V = X W_v

    Each expert e owns a query projection W_q^e (d_model → head_dim) and an output projection W_o^e
    (head_dim → d_model); K and V are one shared head (d_model → head_dim), as in the MoA code. The
    router is ``softmax(x W_g)`` over experts with top-k renormalised gates (:func:`top_k_route`;
    the MoA code keeps un-renormalised top-k probabilities and adds noisy gating in training —
    neither is done here). Scale 1/sqrt(head_dim). Tokens of all batch rows are routed together;
    assignments over capacity contribute nothing (their token passes through the caller's residual).

    Shapes: x (B, L, d_model) → (B, L, d_model).
    """

    def __init__(self, d_model: int, n_experts: int, top_k: int, head_dim: int, causal: bool = True,
                 capacity_factor: float | None = None, dtype: torch.dtype | None = None, device=None):
        super().__init__()
        check_positive_int("d_model", d_model)
        check_positive_int("n_experts", n_experts)
        check_positive_int("head_dim", head_dim)
        _check_top_k(top_k, n_experts)
        _check_capacity_factor(capacity_factor)
        self.d_model, self.n_experts, self.top_k, self.head_dim = d_model, n_experts, top_k, head_dim
        self.causal, self.capacity_factor = bool(causal), capacity_factor
        fk = {"dtype": dtype, "device": device}
        self.router = nn.Linear(d_model, n_experts, bias=False, **fk)          # W_g
        self.w_q = nn.Parameter(torch.empty(n_experts, d_model, head_dim, **fk))  # W_q^e
        self.w_o = nn.Parameter(torch.empty(n_experts, head_dim, d_model, **fk))  # W_o^e
        self.k_proj = nn.Linear(d_model, head_dim, bias=False, **fk)           # shared W_k
        self.v_proj = nn.Linear(d_model, head_dim, bias=False, **fk)           # shared W_v
        nn.init.normal_(self.w_q, 0.0, d_model ** -0.5)
        nn.init.normal_(self.w_o, 0.0, head_dim ** -0.5)

    def forward(self, x: torch.Tensor, return_aux: bool = False, trace=None):
        """MoA of ``x`` (B, L, d_model). ``return_aux=True`` returns ``(y, aux)``, aux = dict(router_logits,
        router_probs, expert_index, gates, dropped, capacity, load_balancing_loss, z_loss), with
        per-token tensors flattened to T = B·L rows. ``trace`` gets ``"moe.route"`` (index (), fields
        ``logits``, ``probs`` (T, E), ``expert_index``, ``gates``, ``dropped`` (T, k), ``capacity``) and
        ``"moe.output"`` (``output`` == y)."""
        check_tensor("x", x, ndim=3)
        b, n, dm = x.shape
        if dm != self.d_model:
            raise ValueError(f"x must have last dim d_model={self.d_model}, got shape {tuple(x.shape)}")
        logits = self.router(x).reshape(b * n, self.n_experts)             # z = x W_g, (T, E)
        r = top_k_route(logits, self.top_k, self.capacity_factor)
        emit(trace, "moe.route", (), logits=logits, probs=r.router_probs,
             expert_index=r.expert_index, gates=r.gates, dropped=r.dropped, capacity=r.capacity)
        q = torch.einsum("bld,edh->belh", x, self.w_q)                    # q_e = x W_q^e, (B, E, L, hd)
        k = self.k_proj(x)[:, None]                                       # (B, 1, L, hd) shared
        v = self.v_proj(x)[:, None]
        heads = sdpa(q, k, v, is_causal=self.causal, enable_gqa=True)     # Attn(q_e, K, V), s = 1/√hd
        expert_out = torch.einsum("belh,ehd->bled", heads, self.w_o)      # W_o^e · head_e
        w = _combine_weights(r, self.n_experts).reshape(b, n, self.n_experts)
        y = torch.einsum("bled,ble->bld", expert_out, w)                  # y_t = Σ_e g_e(t)·(…)
        emit(trace, "moe.output", (), output=y)
        if not return_aux:
            return y
        aux = {"router_logits": logits, "router_probs": r.router_probs, "expert_index": r.expert_index,
               "gates": r.gates, "dropped": r.dropped, "capacity": r.capacity,
               "load_balancing_loss": switch_load_balancing_loss(r.router_probs, r.expert_index,
                                                                 self.n_experts),
               "z_loss": router_z_loss(logits)}
        return y, aux


class SwitchHeadAttention(nn.Module):
    """SwitchHead attention (Csordás et al. 2023, arXiv:2312.07987; RobertCsordas/switchhead).

    Per head h, dense Q and K projections; the V and O projections are mixtures of E experts:

        s^V_h(x) = σ(x W_S^{V,h}),   V_h[j] = Σ_{e ∈ topk(s^V_h(x_j))} s^V_{h,e}(x_j) · x_j W_V^{h,e}
        s^O_h(x) = σ(x W_S^{O,h}),   y_i    = Σ_h Σ_{e ∈ topk(s^O_h(x_i))} s^O_{h,e}(x_i) · A_h[i] W_O^{h,e}
        A_h = softmax(Q_h K_hᵀ / sqrt(head_dim)) V_h

    Routing follows the paper/code: V's experts are selected from the *source* side (the key/value
    token x_j), O's experts from the *destination* side (the query token x_i). Gates are
    non-competitive sigmoids, not renormalised, and the chosen gate values weight the experts
    (``gated=False`` uses weight 1 instead, for tests). No auxiliary balancing loss is used in the
    reference; the aux dict still reports the selections. With ``n_experts == 1`` the reference code
    has no V selection (V is dense) but still scales each head's output by σ(x W_S^{O,h}); this is
    kept, so ``n_experts=1, gated=False`` is exactly standard multi-head attention.

    Shapes: x (B, L, d_model) → (B, L, d_model).
    """

    def __init__(self, d_model: int, n_heads: int, n_experts: int, top_k: int, head_dim: int,
                 causal: bool = True, gated: bool = True, dtype: torch.dtype | None = None, device=None):
        super().__init__()
        check_positive_int("d_model", d_model)
        check_positive_int("n_heads", n_heads)
        check_positive_int("n_experts", n_experts)
        check_positive_int("head_dim", head_dim)
        _check_top_k(top_k, n_experts)
        self.d_model, self.n_heads, self.n_experts = d_model, n_heads, n_experts
        self.top_k, self.head_dim, self.causal, self.gated = top_k, head_dim, bool(causal), bool(gated)
        fk = {"dtype": dtype, "device": device}
        hd, h, e = head_dim, n_heads, n_experts
        self.q_proj = nn.Linear(d_model, h * hd, bias=False, **fk)             # dense W_Q
        self.k_proj = nn.Linear(d_model, h * hd, bias=False, **fk)             # dense W_K
        self.w_v = nn.Parameter(torch.empty(h, e, d_model, hd, **fk))          # W_V^{h,e}
        self.w_o = nn.Parameter(torch.empty(h, e, hd, d_model, **fk))          # W_O^{h,e}
        self.sel_v = nn.Parameter(torch.empty(h * e, d_model, **fk)) if e > 1 else None  # W_S^V
        self.sel_o = nn.Parameter(torch.empty(h * e, d_model, **fk))           # W_S^O
        nn.init.normal_(self.w_v, 0.0, d_model ** -0.5)
        nn.init.normal_(self.w_o, 0.0, (h * hd) ** -0.5)
        nn.init.normal_(self.sel_o, 0.0, d_model ** -0.5)
        if self.sel_v is not None:
            nn.init.normal_(self.sel_v, 0.0, d_model ** -0.5)

    def _select(self, x: torch.Tensor, w_sel: torch.Tensor):
        """Sigmoid top-k per head: returns logits (B, L, H, E), index and gate (B, L, H, k), and the
        dense (B, L, H, E) weight that is the gate on chosen experts and 0 elsewhere."""
        b, n, _ = x.shape
        logits = (x @ w_sel.T).view(b, n, self.n_heads, self.n_experts)
        s = torch.sigmoid(logits)                                          # s = σ(x W_S), per expert
        gate, index = s.topk(self.top_k, dim=-1)                           # non-competitive top-k
        if not self.gated:
            gate = torch.ones_like(gate)
        dense = torch.zeros_like(s).scatter(-1, index, gate)
        return logits, index, gate, dense

    def forward(self, x: torch.Tensor, return_aux: bool = False, trace=None):
        """SwitchHead self-attention of ``x`` (B, L, d_model). ``return_aux=True`` returns ``(y, aux)``
        with aux = dict(v_logits, v_index, v_gates, o_logits, o_index, o_gates) of shape (B, L, H, ·)
        (the v_* entries are None when n_experts == 1). ``trace`` gets ``"moe.route"`` steps with
        index ("v",) (only when n_experts > 1) and ("o",), with the fields of MoA's route: ``logits``,
        ``probs`` = σ(logits) (B, L, H, E), ``expert_index``, ``gates`` (B, L, H, k), ``dropped`` (all False:
        SwitchHead has no capacity limit) and ``capacity`` (None); then ``"moe.output"`` (``output`` == y)."""
        check_tensor("x", x, ndim=3)
        b, n, dm = x.shape
        if dm != self.d_model:
            raise ValueError(f"x must have last dim d_model={self.d_model}, got shape {tuple(x.shape)}")
        h, hd = self.n_heads, self.head_dim
        q = self.q_proj(x).view(b, n, h, hd).transpose(1, 2)              # (B, H, L, hd)
        k = self.k_proj(x).view(b, n, h, hd).transpose(1, 2)
        v_all = torch.einsum("bld,hedk->blhek", x, self.w_v)              # x_j W_V^{h,e}, every expert
        if self.sel_v is not None:                                        # source-side (key/value) routing
            v_logits, v_index, v_gate, v_w = self._select(x, self.sel_v)
            emit(trace, "moe.route", ("v",), logits=v_logits, probs=torch.sigmoid(v_logits), expert_index=v_index,
                 gates=v_gate, dropped=torch.zeros_like(v_index, dtype=torch.bool), capacity=None)
        else:                                                             # one expert: dense V
            v_logits = v_index = v_gate = None
            v_w = torch.ones(b, n, h, 1, dtype=x.dtype, device=x.device)
        v = torch.einsum("blhek,blhe->bhlk", v_all, v_w)                  # V_h = Σ_e s_e · x W_V^{h,e}
        attn = sdpa(q, k, v, is_causal=self.causal)                       # A_h, scale 1/sqrt(hd)
        o_logits, o_index, o_gate, o_w = self._select(x, self.sel_o)     # destination-side (query) routing
        emit(trace, "moe.route", ("o",), logits=o_logits, probs=torch.sigmoid(o_logits), expert_index=o_index,
             gates=o_gate, dropped=torch.zeros_like(o_index, dtype=torch.bool), capacity=None)
        o_all = torch.einsum("bhlk,hekd->blhed", attn, self.w_o)          # A_h W_O^{h,e}, every expert
        y = torch.einsum("blhed,blhe->bld", o_all, o_w)                   # y = Σ_h Σ_e s_e · A_h W_O^{h,e}
        emit(trace, "moe.output", (), output=y)
        if not return_aux:
            return y
        aux = {"v_logits": v_logits, "v_index": v_index, "v_gates": v_gate,
               "o_logits": o_logits, "o_index": o_index, "o_gates": o_gate}
        return y, aux
