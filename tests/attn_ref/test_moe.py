"""Routing, balancing losses, MoA (arXiv:2210.05144) and SwitchHead (arXiv:2312.07987) against hand oracles."""
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_ref import (
    MixtureOfAttentionHeads,
    SwitchHeadAttention,
    Trace,
    router_z_loss,
    switch_load_balancing_loss,
    top_k_route,
)

DT = torch.float64


# ----------------------------------------------------------------------------- losses
def test_load_balancing_uniform_is_one_and_k_for_top_k():
    T, N = 8, 4
    probs = torch.full((T, N), 1.0 / N, dtype=DT)
    top1 = torch.arange(T) % N
    assert switch_load_balancing_loss(probs, top1, N).item() == 1.0
    top2 = torch.stack([torch.arange(T) % N, (torch.arange(T) + 1) % N], dim=1)
    assert switch_load_balancing_loss(probs, top2, N).item() == 2.0


def test_load_balancing_collapse_is_n_and_hand_value():
    T, N = 5, 4
    probs = F.one_hot(torch.full((T,), 2), N).to(DT)
    assert switch_load_balancing_loss(probs, torch.full((T,), 2), N).item() == N
    # f = [1, 0], P = [0.625, 0.375]  →  2·(1·0.625) = 1.25
    probs = torch.tensor([[0.75, 0.25], [0.5, 0.5]], dtype=DT)
    assert switch_load_balancing_loss(probs, torch.tensor([0, 0]), 2).item() == 1.25


def test_router_z_loss_values():
    assert router_z_loss(torch.zeros(3, 4, dtype=DT)).item() == pytest.approx(math.log(4) ** 2, abs=1e-14)
    z = torch.tensor([[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]], dtype=DT)
    lse = [math.log(sum(math.exp(v) for v in row)) for row in z.tolist()]
    assert router_z_loss(z).item() == pytest.approx(sum(v * v for v in lse) / 2, abs=1e-12)


# ----------------------------------------------------------------------------- routing
@settings(max_examples=20, deadline=None)
@given(T=st.integers(1, 12), E=st.integers(1, 5), data=st.data())
def test_top_k_route_properties(T, E, data):
    k = data.draw(st.integers(1, E))
    cf = data.draw(st.one_of(st.none(), st.sampled_from([0.25, 0.5, 1.0, 1.5])))
    logits = torch.randn(T, E, dtype=DT, generator=torch.Generator().manual_seed(data.draw(st.integers(0, 999))))
    r = top_k_route(logits, k, cf)
    torch.testing.assert_close(r.router_probs, torch.softmax(logits, -1), rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(r.gates.sum(-1), torch.ones(T, dtype=DT), rtol=1e-14, atol=1e-14)
    chosen = torch.gather(logits, 1, r.expert_index)
    torch.testing.assert_close(r.gates, torch.softmax(chosen, -1), rtol=1e-12, atol=1e-14)
    assert all(len(set(row)) == k for row in r.expert_index.tolist())        # distinct experts
    chosen_mask = torch.zeros(T, E, dtype=torch.bool).scatter(1, r.expert_index, True)
    if k < E:                                                                 # chosen ≥ every unchosen prob
        lo = r.router_probs.masked_fill(~chosen_mask, math.inf).amin(-1)
        hi = r.router_probs.masked_fill(chosen_mask, -math.inf).amax(-1)
        assert torch.all(lo >= hi)
    # capacity oracle: walk assignments in token order with per-expert counters
    cap = None if cf is None else math.ceil(cf * T * k / E)
    assert r.capacity == cap
    used = [0] * E
    for t in range(T):
        for j in range(k):
            e = int(r.expert_index[t, j])
            assert bool(r.dropped[t, j]) == (cap is not None and used[e] >= cap)
            used[e] += 1
    counts = torch.bincount(r.expert_index.reshape(-1), minlength=E)
    torch.testing.assert_close(r.tokens_per_expert, counts)
    n_dropped = int(r.dropped.sum())
    assert n_dropped == sum(max(0, c - (cap if cap is not None else c)) for c in counts.tolist())
    assert int((~r.dropped).sum()) + n_dropped == T * k                       # nothing silently lost


def test_capacity_drops_later_tokens_hand_built():
    logits = torch.tensor([[5.0, 0.0]] * 6, dtype=DT)                     # every token wants expert 0
    r = top_k_route(logits, 1, capacity_factor=1.0)                       # C = ceil(1·6·1/2) = 3
    assert r.capacity == 3
    assert r.dropped[:, 0].tolist() == [False, False, False, True, True, True]
    assert r.position[:, 0].tolist() == [0, 1, 2, 3, 4, 5]


# ----------------------------------------------------------------------------- MoA
def _moa_loop_oracle(m, x, expert_index, gates, dropped):
    """Per-token, per-choice loop: y_t = Σ_j g_tj · W_o^e (softmax(q_e(t)·K_{≤t}/√hd) V_{≤t})."""
    B, L, D = x.shape
    y = torch.zeros(B, L, D, dtype=DT)
    for b in range(B):
        K, V = x[b] @ m.k_proj.weight.T, x[b] @ m.v_proj.weight.T
        for t in range(L):
            row = b * L + t
            for j in range(m.top_k):
                if dropped[row, j]:
                    continue
                e = int(expert_index[row, j])
                q = x[b, t] @ m.w_q[e]
                p = torch.softmax(K[: t + 1] @ q / math.sqrt(m.head_dim), dim=0)
                y[b, t] += gates[row, j] * ((p @ V[: t + 1]) @ m.w_o[e])
    return y


def test_moa_one_expert_equals_single_head_attention():
    torch.manual_seed(0)
    m = MixtureOfAttentionHeads(8, n_experts=1, top_k=1, head_dim=4).to(DT)
    x = torch.randn(2, 5, 8, dtype=DT)
    q = (x @ m.w_q[0])[:, None]
    k = (x @ m.k_proj.weight.T)[:, None]
    v = (x @ m.v_proj.weight.T)[:, None]
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)[:, 0] @ m.w_o[0]
    torch.testing.assert_close(m(x), ref, rtol=1e-12, atol=1e-12)


def test_moa_matches_loop_oracle_with_drops():
    torch.manual_seed(1)
    m = MixtureOfAttentionHeads(6, n_experts=3, top_k=2, head_dim=4, capacity_factor=0.5).to(DT)
    x = torch.randn(2, 4, 6, dtype=DT)
    tr = Trace()
    y, aux = m(x, return_aux=True, trace=tr)
    logits = x.reshape(8, 6) @ m.router.weight.T
    torch.testing.assert_close(aux["router_logits"], logits, rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(aux["router_probs"], torch.softmax(logits, -1), rtol=1e-14, atol=1e-14)
    assert aux["capacity"] == math.ceil(0.5 * 8 * 2 / 3) and aux["dropped"].any()
    ref = _moa_loop_oracle(m, x, aux["expert_index"], aux["gates"], aux["dropped"])
    torch.testing.assert_close(y, ref, rtol=1e-12, atol=1e-12)
    # a token whose every choice was dropped contributes nothing (the caller's residual carries it)
    all_dropped = aux["dropped"].all(-1).reshape(2, 4)
    assert torch.all(y[all_dropped] == 0)
    # aux losses and the trace agree with the public functions / the output
    lb = switch_load_balancing_loss(aux["router_probs"], aux["expert_index"], 3)
    torch.testing.assert_close(aux["load_balancing_loss"], lb, rtol=0, atol=0)
    torch.testing.assert_close(aux["z_loss"], router_z_loss(logits), rtol=1e-14, atol=1e-14)
    route = tr.of_kind("moe.route")[0]
    assert torch.equal(route["expert_index"], aux["expert_index"]) and torch.equal(route["dropped"], aux["dropped"])
    torch.testing.assert_close(tr[-1]["output"], y, rtol=0, atol=0)


def test_moa_no_capacity_matches_loop_oracle():
    torch.manual_seed(2)
    m = MixtureOfAttentionHeads(6, n_experts=4, top_k=2, head_dim=3).to(DT)
    x = torch.randn(1, 5, 6, dtype=DT)
    y, aux = m(x, return_aux=True)
    assert not aux["dropped"].any()
    torch.testing.assert_close(y, _moa_loop_oracle(m, x, aux["expert_index"], aux["gates"], aux["dropped"]),
                               rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- SwitchHead
def test_switchhead_one_expert_ungated_equals_torch_mha():
    torch.manual_seed(3)
    D, H = 8, 2
    m = SwitchHeadAttention(D, n_heads=H, n_experts=1, top_k=1, head_dim=D // H, gated=False).to(DT)
    mha = torch.nn.MultiheadAttention(D, H, bias=False, batch_first=True).to(DT)
    with torch.no_grad():
        wv = m.w_v[:, 0].permute(0, 2, 1).reshape(D, D)                 # rows: head h, dim i
        mha.in_proj_weight.copy_(torch.cat([m.q_proj.weight, m.k_proj.weight, wv]))
        mha.out_proj.weight.copy_(m.w_o[:, 0].reshape(D, D).T)
    x = torch.randn(2, 5, D, dtype=DT)
    future = torch.ones(5, 5, dtype=torch.bool).triu(1)                 # nn.MHA: True = masked out
    ref, _ = mha(x, x, x, attn_mask=future, need_weights=False)
    torch.testing.assert_close(m(x), ref, rtol=1e-12, atol=1e-12)


def _switchhead_loop_oracle(m, x):
    """Per-token loops with the paper's sigmoid top-k selections (V: source token, O: destination)."""
    B, L, D = x.shape
    H, E, hd = m.n_heads, m.n_experts, m.head_dim
    y = torch.zeros(B, L, D, dtype=DT)
    for b in range(B):
        for h in range(H):
            Q = x[b] @ m.q_proj.weight[h * hd:(h + 1) * hd].T
            K = x[b] @ m.k_proj.weight[h * hd:(h + 1) * hd].T
            V = torch.zeros(L, hd, dtype=DT)
            for j in range(L):
                if E == 1:
                    V[j] = x[b, j] @ m.w_v[h, 0]
                    continue
                s = torch.sigmoid(m.sel_v[h * E:(h + 1) * E] @ x[b, j])
                for e in torch.topk(s, m.top_k).indices.tolist():
                    V[j] += s[e] * (x[b, j] @ m.w_v[h, e])
            for i in range(L):
                p = torch.softmax(K[: i + 1] @ Q[i] / math.sqrt(hd), dim=0)
                a = p @ V[: i + 1]
                s = torch.sigmoid(m.sel_o[h * E:(h + 1) * E] @ x[b, i])
                for e in torch.topk(s, m.top_k).indices.tolist():
                    y[b, i] += s[e] * (a @ m.w_o[h, e])
    return y


@pytest.mark.parametrize("E,k", [(1, 1), (3, 2)])
def test_switchhead_matches_loop_oracle(E, k):
    torch.manual_seed(4)
    m = SwitchHeadAttention(6, n_heads=2, n_experts=E, top_k=k, head_dim=3).to(DT)
    x = torch.randn(2, 4, 6, dtype=DT)
    tr = Trace()
    y, aux = m(x, return_aux=True, trace=tr)
    torch.testing.assert_close(y, _switchhead_loop_oracle(m, x), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(tr[-1]["output"], y, rtol=0, atol=0)
    assert [s.index for s in tr.of_kind("moe.route")] == ([("v",), ("o",)] if E > 1 else [("o",)])
    assert aux["o_index"].shape == (2, 4, 2, k)


# ----------------------------------------------------------------------------- determinism, errors
@pytest.mark.parametrize("make", [
    lambda: MixtureOfAttentionHeads(6, 3, 2, 4, capacity_factor=1.0),
    lambda: SwitchHeadAttention(6, 2, 3, 2, 3),
])
def test_deterministic_under_seed(make):
    outs = []
    for _ in range(2):
        torch.manual_seed(7)
        m = make().to(DT)
        x = torch.randn(1, 4, 6, dtype=DT)
        outs.append((m(x), m(x)))
    assert torch.equal(outs[0][0], outs[1][0]) and torch.equal(outs[0][0], outs[0][1])


def test_bad_input_names_argument():
    z = torch.randn(4, 3)
    for bad in (4, 0, -1):
        with pytest.raises(ValueError, match="top_k"):
            top_k_route(z, bad)
    for cf in (0.0, -1.0):
        with pytest.raises(ValueError, match="capacity_factor"):
            top_k_route(z, 1, capacity_factor=cf)
        with pytest.raises(ValueError, match="capacity_factor"):
            MixtureOfAttentionHeads(4, 2, 1, 2, capacity_factor=cf)
    with pytest.raises(ValueError, match="top_k"):
        MixtureOfAttentionHeads(4, 2, 3, 2)
    with pytest.raises(ValueError, match="top_k"):
        SwitchHeadAttention(4, 2, 2, 3, 2)
    with pytest.raises(ValueError, match="top_k"):
        SwitchHeadAttention(4, 2, 2, 0, 2)
    with pytest.raises(ValueError, match="n_experts"):
        switch_load_balancing_loss(torch.rand(4, 3), torch.zeros(4, dtype=torch.long), 2)
