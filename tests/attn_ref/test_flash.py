"""FlashAttention 1/2, recomputing backward, Flash-Decoding and the IO model against independent oracles.

Oracles: torch.nn.functional.scaled_dot_product_attention in float64, torch.logsumexp of scores built here,
autograd through plain attention, and the online-softmax recurrence re-derived in the test.
"""
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_ref.flash import (
    FlashAttentionFunction,
    attention_io,
    flash_attention,
    flash_attention_autograd,
    flash_decoding,
)

DT = torch.float64


def _qkv(n_q, n_k, d=4, d_v=3, b=2, h=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(b, h, n_q, d, generator=g, dtype=DT)
    k = torch.randn(b, h, n_k, d, generator=g, dtype=DT)
    v = torch.randn(b, h, n_k, d_v, generator=g, dtype=DT)
    return q, k, v


def _keep(n_q, n_k, causal, alignment):
    """Bool (n_q, n_k), True = may attend, from the index rule (independent of attn_ref)."""
    if not causal:
        return torch.ones(n_q, n_k, dtype=torch.bool)
    off = 0 if alignment == "upper_left" else n_k - n_q
    i = torch.arange(n_q)[:, None]
    j = torch.arange(n_k)[None, :]
    return j <= i + off


def _oracle(q, k, v, causal=False, alignment="upper_left", scale=None):
    """torch SDPA on rows that see at least one key; zero for fully masked rows. Also the LSE."""
    keep = _keep(q.shape[-2], k.shape[-2], causal, alignment)
    s = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = (q @ k.transpose(-2, -1) * s).masked_fill(~keep, float("-inf"))
    lse = torch.logsumexp(scores, dim=-1)
    live = keep.any(dim=-1)
    out = torch.zeros(*q.shape[:-1], v.shape[-1], dtype=q.dtype)
    if live.any():
        out[..., live, :] = F.scaled_dot_product_attention(q[..., live, :], k, v, attn_mask=keep[live],
                                                           scale=scale)
    return out, lse


CASES = [  # (n_q, n_k, block_q, block_k)
    (7, 7, 3, 2),
    (5, 9, 2, 4),
    (9, 5, 4, 3),
    (6, 6, 64, 64),
    (4, 7, 1, 1),
]


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("causal,alignment", [(False, "upper_left"), (True, "upper_left"), (True, "lower_right")])
@pytest.mark.parametrize("n_q,n_k,bq,bk", CASES)
def test_flash_matches_sdpa_and_lse(version, causal, alignment, n_q, n_k, bq, bk):
    q, k, v = _qkv(n_q, n_k)
    out, lse = flash_attention(q, k, v, block_q=bq, block_k=bk, causal=causal, version=version,
                               return_lse=True, causal_alignment=alignment)
    ref, ref_lse = _oracle(q, k, v, causal, alignment)
    torch.testing.assert_close(out, ref, atol=1e-12, rtol=0)
    torch.testing.assert_close(lse, ref_lse, atol=1e-12, rtol=0)  # -inf where fully masked, both sides
    assert out.dtype == DT and lse.shape == q.shape[:-1]


def test_fully_masked_rows_give_zero_and_neg_inf():
    q, k, v = _qkv(6, 3)  # lower_right with Lq > Lk: rows 0..2 see no key
    for version in (1, 2):
        out, lse = flash_attention(q, k, v, 2, 2, causal=True, causal_alignment="lower_right", version=version,
                                   return_lse=True)
        assert torch.all(out[..., :3, :] == 0) and torch.all(torch.isneginf(lse[..., :3]))
        assert torch.isfinite(out).all() and torch.isfinite(lse[..., 3:]).all()


def test_upper_left_is_pytorch_is_causal_and_custom_scale():
    q, k, v = _qkv(5, 8)
    out = flash_attention(q, k, v, 2, 3, causal=True, scale=0.3)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.3),
                               atol=1e-12, rtol=0)


def test_float32_input_stays_float32():
    q, k, v = _qkv(6, 6)
    out = flash_attention(q.float(), k.float(), v.float(), 4, 4, causal=True)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out.double(), _oracle(q, k, v, True)[0], atol=1e-5, rtol=0)


@settings(max_examples=20, deadline=None)
@given(n_q=st.integers(1, 9), n_k=st.integers(1, 9), bq=st.integers(1, 10), bk=st.integers(1, 10),
       causal=st.booleans(), lower_right=st.booleans(), version=st.sampled_from([1, 2]))
def test_flash_property(n_q, n_k, bq, bk, causal, lower_right, version):
    alignment = "lower_right" if lower_right else "upper_left"
    q, k, v = _qkv(n_q, n_k, b=1, h=1, seed=n_q * 31 + n_k)
    out, lse = flash_attention(q, k, v, bq, bk, causal=causal, version=version, return_lse=True,
                               causal_alignment=alignment)
    ref, ref_lse = _oracle(q, k, v, causal, alignment)
    torch.testing.assert_close(out, ref, atol=1e-12, rtol=0)
    torch.testing.assert_close(lse, ref_lse, atol=1e-12, rtol=0)


# ------------------------------------------------------------------------------------------------ trace
@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("causal", [False, True])
def test_trace_follows_online_softmax_recurrence(version, causal):
    n_q, n_k, bq, bk = 7, 9, 4, 2  # tile (0, 2) starts right after row 3: the skip boundary
    q, k, v = _qkv(n_q, n_k)
    trace = []
    out, lse = flash_attention(q, k, v, bq, bk, causal=causal, version=version, return_lse=True, trace=trace)
    steps = [s for s in trace if s.kind == "flash.step"]
    assert trace[-1].kind == "flash.final"
    torch.testing.assert_close(trace[-1]["O"], out, atol=0, rtol=0)
    torch.testing.assert_close(trace[-1]["lse"], lse, atol=0, rtol=0)

    # Tiles computed = tiles with at least one visible entry; loop order is FA-1 (j outer) or FA-2 (i outer).
    keep = _keep(n_q, n_k, causal, "upper_left")
    live = [(i, j) for i in range(-(-n_q // bq)) for j in range(-(-n_k // bk))
            if keep[i * bq:(i + 1) * bq, j * bk:(j + 1) * bk].any()]
    expect = sorted(live, key=(lambda t: (t[1], t[0])) if version == 1 else (lambda t: t))
    assert [s.index for s in steps] == expect

    state = {}  # per Q block: (m, l, O accumulator for v2) before the step
    for st_ in steps:
        i, _ = st_.index
        r0, r1 = st_["rows"]
        m_old, l_old, acc_old = state.get(i, (torch.full((2, 2, r1 - r0), -math.inf, dtype=DT),
                                              torch.zeros(2, 2, r1 - r0, dtype=DT),
                                              torch.zeros(2, 2, r1 - r0, 3, dtype=DT)))
        S = st_["S"]
        m_new = torch.maximum(m_old, S.max(dim=-1).values)  # m_new = max(m_old, rowmax S)
        torch.testing.assert_close(st_["m"], m_new, atol=0, rtol=0)
        finite = torch.isfinite(m_new)
        shift = torch.where(finite, m_new, 0.0)
        l_new = torch.exp(m_old - shift) * l_old + torch.exp(S - shift[..., None]).sum(-1)
        torch.testing.assert_close(st_["l"], torch.where(finite, l_new, 0.0), atol=1e-12, rtol=0)
        if version == 2:
            p = torch.exp(S - shift[..., None])
            torch.testing.assert_close(st_["P"], p, atol=1e-14, rtol=0)
            c0, c1 = st_["cols"]
            acc_new = torch.exp(m_old - shift)[..., None] * acc_old + p @ v[..., c0:c1, :]
            torch.testing.assert_close(st_["O"], acc_new, atol=1e-12, rtol=0)
            state[i] = (m_new, st_["l"], acc_new)
        else:
            # FA-1 keeps O normalised in HBM: the written-back rows are the softmax over keys seen so far.
            c1 = st_["cols"][1]
            seen = keep[r0:r1, :c1]
            sc = (q[..., r0:r1, :] @ k[..., :c1, :].transpose(-2, -1) / 2).masked_fill(~seen, -math.inf)
            part = torch.softmax(sc, -1).nan_to_num(0.0) @ v[..., :c1, :]
            torch.testing.assert_close(st_["O"][..., r0:r1, :], part, atol=1e-12, rtol=0)
            state[i] = (m_new, st_["l"], None)
    # After its last step, each block's statistics give the LSE: m + log l.
    for i, (m_f, l_f, _) in state.items():
        torch.testing.assert_close(m_f + torch.log(l_f), lse[..., i * bq:(i + 1) * bq], atol=1e-12, rtol=0)


def test_trace_accepts_callable():
    q, k, v = _qkv(3, 3)
    kinds = []
    flash_attention(q, k, v, 2, 2, trace=lambda s: kinds.append(s.kind))
    assert kinds == ["flash.step"] * 4 + ["flash.final"]


# --------------------------------------------------------------------------------------------- backward
def _plain_attention(q, k, v, keep, scale):
    scores = (q @ k.transpose(-2, -1) * scale).masked_fill(~keep, -math.inf)
    return torch.softmax(scores, dim=-1) @ v


@pytest.mark.parametrize("causal,alignment,n_q,n_k", [(False, "upper_left", 5, 7), (True, "upper_left", 7, 5),
                                                      (True, "lower_right", 4, 9)])
def test_backward_matches_autograd_of_plain_attention(causal, alignment, n_q, n_k):
    q, k, v = _qkv(n_q, n_k, seed=3)
    d_out = torch.randn(2, 2, n_q, 3, dtype=DT, generator=torch.Generator().manual_seed(9))
    leaves = [t.clone().requires_grad_() for t in (q, k, v)]
    out = flash_attention_autograd(*leaves, causal=causal, block_q=2, block_k=3, causal_alignment=alignment)
    grads = torch.autograd.grad(out, leaves, d_out)
    ref_leaves = [t.clone().requires_grad_() for t in (q, k, v)]
    ref = _plain_attention(*ref_leaves, _keep(n_q, n_k, causal, alignment), 0.5)
    ref_grads = torch.autograd.grad(ref, ref_leaves, d_out)
    torch.testing.assert_close(out, ref, atol=1e-12, rtol=0)
    for g, rg in zip(grads, ref_grads):
        torch.testing.assert_close(g, rg, atol=1e-10, rtol=0)


def test_backward_gradcheck_and_masked_rows_finite():
    q, k, v = _qkv(3, 4, b=1, h=1, d=2, d_v=2)
    leaves = [t.clone().requires_grad_() for t in (q, k, v)]
    assert torch.autograd.gradcheck(
        lambda a, b, c: FlashAttentionFunction.apply(a, b, c, True, None, 2, 3, "upper_left")[0], leaves)
    # lower_right with Lq > Lk: first rows are fully masked -> zero output, finite (zero) gradients there.
    q, k, v = (t.clone().requires_grad_() for t in _qkv(5, 2))
    out = flash_attention_autograd(q, k, v, causal=True, causal_alignment="lower_right", block_q=2, block_k=1)
    out.sum().backward()
    assert torch.isfinite(q.grad).all() and torch.all(q.grad[..., :3, :] == 0)
    assert torch.isfinite(k.grad).all() and torch.isfinite(v.grad).all()


def test_forward_saves_no_quadratic_tensor():
    q, k, v = (t.clone().requires_grad_() for t in _qkv(6, 8))
    out = flash_attention_autograd(q, k, v, block_q=2, block_k=2)
    shapes = [tuple(t.shape) for t in out.grad_fn.saved_tensors]
    assert all(s[-2:] != (6, 8) for s in shapes), shapes  # P (Lq, Lk) is recomputed, not saved
    assert len(shapes) == 5


# ------------------------------------------------------------------------------------------ flash-decoding
@pytest.mark.parametrize("n_q", [1, 2])
def test_flash_decoding_equals_full_attention_for_every_split_count(n_q):
    n_k = 7
    q, k, v = _qkv(n_q, n_k, seed=5)
    ref, ref_lse = _oracle(q, k, v)
    for n_splits in range(1, n_k + 1):
        trace = []
        out, lse = flash_decoding(q, k, v, n_splits, return_lse=True, trace=trace)
        torch.testing.assert_close(out, ref, atol=1e-12, rtol=0)
        torch.testing.assert_close(lse, ref_lse, atol=1e-12, rtol=0)
        splits = [s for s in trace if s.kind == "flash_decoding.split"]
        assert len(splits) == n_splits and trace[-1].kind == "flash_decoding.merge"
        assert splits[0]["cols"][0] == 0 and splits[-1]["cols"][1] == n_k
        for s in splits:  # each split is attention over its own key slice
            c0, c1 = s["cols"]
            o_s, l_s = _oracle(q, k[..., c0:c1, :], v[..., c0:c1, :])
            torch.testing.assert_close(s["O_s"], o_s, atol=1e-12, rtol=0)
            torch.testing.assert_close(s["lse_s"], l_s, atol=1e-12, rtol=0)
        torch.testing.assert_close(trace[-1]["O"], out, atol=0, rtol=0)
        torch.testing.assert_close(trace[-1]["weights"].sum(0), torch.ones_like(lse), atol=1e-12, rtol=0)


def test_flash_decoding_bad_splits():
    q, k, v = _qkv(1, 4)
    with pytest.raises(ValueError, match="n_splits"):
        flash_decoding(q, k, v, 5)
    with pytest.raises(ValueError, match="n_splits"):
        flash_decoding(q, k, v, 0)


# ------------------------------------------------------------------------------------------- validation
def test_bad_arguments_name_the_argument():
    q, k, v = _qkv(4, 4)
    with pytest.raises(ValueError, match="block_q"):
        flash_attention(q, k, v, block_q=0)
    with pytest.raises(ValueError, match="block_k"):
        flash_attention(q, k, v, block_k=-2)
    with pytest.raises(ValueError, match="version"):
        flash_attention(q, k, v, version=3)
    with pytest.raises(ValueError, match="causal_alignment"):
        flash_attention(q, k, v, causal=True, causal_alignment="bottom")
    with pytest.raises(ValueError, match="head dim"):
        flash_attention(q, k[..., :3], v)
    with pytest.raises(ValueError, match="dtype"):
        flash_attention(q, k.float(), v)


# --------------------------------------------------------------------------------------------- IO model
def _simulate_io(n, d, b_r, b_c, version):
    """Walk the algorithm's load/store statements block by block and add up the elements moved."""
    rows = [min(b_r, n - r) for r in range(0, n, b_r)]
    cols = [min(b_c, n - c) for c in range(0, n, b_c)]
    total = 0
    if version == 1:
        total += n * d + 2 * n  # initialise O, l, m in HBM
        for bc in cols:
            total += 2 * bc * d  # load K_j, V_j
            for br in rows:
                total += 2 * br * d + 2 * br  # load Q_i, O_i, l_i, m_i
                total += br * d + 2 * br  # write O_i, l_i, m_i
    else:
        for br in rows:
            total += br * d  # load Q_i
            for bc in cols:
                total += 2 * bc * d  # load K_j, V_j
            total += br * d + br  # write O_i, LSE_i
    return total


def test_io_exact_small_cases():
    # N = 4, d = 2, M = 16 elements (32 bytes of fp16): B_c = ceil(16/8) = 2, B_r = min(2, 2) = 2.
    assert attention_io(4, 2, 32, method="standard") == 2 * (2 * 8 + 16 + 16 + 16 + 16 + 8 + 8)  # 4Nd + 4N²
    assert attention_io(4, 2, 32, method="flash", version=1) == 2 * (8 + 8 + 16 + 2 * (16 + 8 + 8 + 8))
    assert attention_io(4, 2, 32, method="flash", version=2) == 2 * (8 + 2 * 16 + 8 + 4)
    total, info = attention_io(4, 2, 32, method="flash", version=1, breakdown=True)
    assert (info["block_c"], info["block_r"], info["T_c"], info["T_r"]) == (2, 2, 2, 2)
    assert info["reads"] + info["writes"] == info["elements"] == total // 2
    assert attention_io(4, 2, 32, bytes_per_elem=4, method="standard") == 96 * 4


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 40), d=st.integers(1, 8), mem=st.integers(1, 200), version=st.sampled_from([1, 2]))
def test_io_matches_block_simulation(n, d, mem, version):
    total, info = attention_io(n, d, 2 * mem, method="flash", version=version, breakdown=True)
    outer, inner = ("block_c", "block_r") if version == 1 else ("block_r", "block_c")
    assert info[outer] == math.ceil(mem / (4 * d)) and info[inner] == min(info[outer], d)
    assert total == 2 * _simulate_io(n, d, info["block_r"], info["block_c"], version)


@pytest.mark.parametrize("version", [1, 2])
def test_io_flash_quadratic_term_is_inverse_in_sram(version):
    n, d = 256, 8
    small = attention_io(n, d, 2 * 128, method="flash", version=version, breakdown=True)[1]  # M/4d = 4
    big = attention_io(n, d, 2 * 256, method="flash", version=version, breakdown=True)[1]  # M/4d = 8
    assert small["quadratic"] == 2 * big["quadratic"]  # doubling M halves the N² term
    # M/4d divides N here, so T = 4Nd/M exactly: v1 12 N²d²/M + 16 N²d/M; v2 8 N²d²/M.
    expect = 12 * n * n * d * d + 16 * n * n * d if version == 1 else 8 * n * n * d * d
    assert small["quadratic"] == expect // small["M"]
    # Realistic sizes (d = 64, ~100 KB of SRAM, fp16): d² ≪ M, so flash moves far fewer bytes.
    std = attention_io(4096, 64, 100 * 1024, method="standard")
    assert attention_io(4096, 64, 100 * 1024, method="flash", version=version) < std / 3


def test_io_standard_grows_as_n_squared():
    d = 16
    for n in (8, 64, 512):
        s1, s2 = (attention_io(m, d, 1024, method="standard", bytes_per_elem=1) for m in (n, 2 * n))
        assert s2 - 2 * s1 == 8 * n * n  # linear terms cancel; 4(2N)² − 2·4N² = 8N²
    with pytest.raises(ValueError, match="method"):
        attention_io(8, 4, 64, method="fast")
    with pytest.raises(ValueError, match="sram_bytes"):
        attention_io(8, 4, 0)


# ------------------------------------------------------------------------------------- trace_io (L06.5)
@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("n,d,br,bc", [(16, 4, 4, 4), (18, 4, 4, 4), (10, 3, 4, 2), (7, 2, 3, 5), (1, 2, 1, 1)])
def test_trace_io_equals_attention_io_and_the_block_simulation(version, n, d, br, bc):
    from attn_ref.flash import trace_io
    q, k, v = _qkv(n, n, d=d, d_v=d, b=1, h=1)
    trace = []
    flash_attention(q, k, v, block_q=br, block_k=bc, version=version, trace=trace)
    io = trace_io(trace, d, version)
    _, info = attention_io(n, d, 2 * 4096, method="flash", version=version, block_r=br, block_c=bc, breakdown=True)
    assert io["elements"] == info["elements"] == _simulate_io(n, d, br, bc, version)
    assert io["reads_total"] == info["reads"] and io["writes_total"] == info["writes"]
    assert io["O_block_writes_total"] == info["O_block_writes"]
    tr, tc = math.ceil(n / br), math.ceil(n / bc)
    assert io["O_block_writes_total"] == (tr * tc if version == 1 else tr)
    assert io["cum_reads"][-1] == io["reads_total"] and sum(io["writes"]) + io["init_writes"] == io["writes_total"]
    assert io["O_block_writes"] == sorted(io["O_block_writes"]) and len(io["index"]) == tr * tc


def test_trace_io_by_hand_and_causal_skips():
    from attn_ref.flash import trace_io
    q, k, v = _qkv(4, 4, d=2, d_v=3, b=1, h=1)
    trace = []
    flash_attention(q, k, v, block_q=2, block_k=2, version=2, trace=trace)
    io = trace_io(trace, 2, 2, d_v=3)
    # steps (0,0),(0,1),(1,0),(1,1): Q_i (2·2) on entering a block, K_j V_j 2·(2+3) each, O_i + LSE_i 2·(3+1) at the end
    assert io["index"] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert io["reads"] == [4 + 10, 10, 4 + 10, 10] and io["writes"] == [0, 8, 0, 8]
    assert io["O_block_writes"] == [0, 1, 1, 2]
    trace = []
    flash_attention(q, k, v, block_q=2, block_k=2, version=1, trace=trace)
    io = trace_io(trace, 2, 1, d_v=3)
    # FA-1 order (0,0),(1,0),(0,1),(1,1); K_j V_j on a new j; Q_i, O_i, ℓ_i, m_i 2·(2+3+2) read, 2·(3+2) written
    assert io["index"] == [(0, 0), (1, 0), (0, 1), (1, 1)] and io["init_writes"] == 4 * 5
    assert io["reads"] == [10 + 14, 14, 10 + 14, 14] and io["writes"] == [10] * 4
    assert io["O_block_writes"] == [1, 2, 3, 4]
    q, k, v = _qkv(16, 16, d=4, d_v=4, b=1, h=1)
    full, causal = [], []
    flash_attention(q, k, v, block_q=4, block_k=4, trace=full)
    flash_attention(q, k, v, block_q=4, block_k=4, causal=True, trace=causal)
    a, b = trace_io(full, 4, 2), trace_io(causal, 4, 2)
    assert len(b["index"]) == 10 and b["reads_total"] == a["reads_total"] - 6 * 4 * 8  # 6 skipped K/V tile loads
    with pytest.raises(ValueError, match=r"flash\.final"):
        trace_io(full[:-1], 4, 2)
    with pytest.raises(ValueError, match="version"):
        trace_io(full, 4, 3)
