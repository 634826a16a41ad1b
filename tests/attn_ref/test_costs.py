"""attn_ref.costs: FLOP counts against torch's FlopCounterMode on the real modules, hand-computed crossover and
MLA numbers, roofline arithmetic against the datasheet figures, state sizes against the modules' own states."""
import math

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import attn_ref as ar
from attn_ref.decoder import _Block

D64 = torch.float64


def _count(fn) -> int:
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        fn()
    return fc.get_total_flops()


# ------------------------------------------------------------------------------------------- layer FLOPs
@pytest.mark.parametrize("n_heads,n_kv_heads", [(4, 4), (4, 2), (4, 1)])
def test_layer_flops_equal_flop_counter_on_a_decoder_block(n_heads, n_kv_heads):
    cfg = ar.DecoderConfig(d_model=16, n_heads=n_heads, n_kv_heads=n_kv_heads, d_ff=24)
    block = _Block(cfg).to(D64)
    x = torch.randn(2, 5, 16, dtype=D64)
    got = _count(lambda: block(x, None, torch.arange(5), None))  # prefill: dense scores (mask applied after)
    want = ar.layer_flops(5, 16, n_heads, n_kv_heads, d_ff=24, mlp="gelu", batch=2)  # up/down MLP
    assert got == want["total"]
    cache = ar.KVCache(2, n_kv_heads, 4, dtype=D64)
    block(x, cache, torch.arange(5), None)
    got_decode = _count(lambda: block(x[:, :1], cache, torch.tensor([5]), None))  # one token against 6 keys
    assert got_decode == ar.layer_flops(1, 16, n_heads, n_kv_heads, d_ff=24, mlp="gelu", n_k=6, batch=2)["total"]


def test_swiglu_mlp_counts_three_matrices():
    d, ff = 8, 12
    gate, up, down = nn.Linear(d, ff, bias=False), nn.Linear(d, ff, bias=False), nn.Linear(ff, d, bias=False)
    x = torch.randn(3, d)
    got = _count(lambda: down(nn.functional.silu(gate(x)) * up(x)))
    assert got == ar.layer_flops(3, d, 2, d_ff=ff, mlp="swiglu")["mlp"] == 2 * 3 * 3 * d * ff
    assert ar.layer_flops(3, d, 2, d_ff=ff, mlp="relu")["mlp"] == 2 * 3 * 2 * d * ff


def test_attention_mlp_crossover_llama2_7b_hand_value():
    # P_layer = 4·4096² + 3·4096·11008 = 202,375,168 (lecture plan L04.1); n* = 2P / (4·4096), P / 4096 causal
    p_layer = 4 * 4096**2 + 3 * 4096 * 11008
    assert p_layer == 202_375_168
    assert ar.LLAMA2_7B.attention_mlp_crossover() == 2 * p_layer / (4 * 4096) == 24_704
    assert ar.LLAMA2_7B.attention_mlp_crossover(causal=True) == 49_408
    at = ar.LLAMA2_7B.layer_flops(24_704)
    assert at["attention"] == at["dense"] == 2 * 24_704 * p_layer
    below, above = ar.LLAMA2_7B.layer_flops(24_703), ar.LLAMA2_7B.layer_flops(24_705)
    assert below["attention"] < below["dense"] and above["attention"] > above["dense"]
    # GQA shrinks K/V projections only: Llama-2-70B's layer has 2·8192·(64 − 8)·128 fewer parameters than MHA
    mha = ar.attention_mlp_crossover(8192, 64, 64, 128, 28672)
    gqa = ar.LLAMA2_70B.attention_mlp_crossover()
    assert (mha - gqa) * 4 * 8192 == 2 * 2 * 8192 * 56 * 128


# ---------------------------------------------------------------------------------------------------- MLA
@pytest.mark.parametrize("q_lora_rank", [8, None])
@pytest.mark.parametrize("mode", ["naive", "absorbed"])
@pytest.mark.parametrize("n_q", [1, 2])
def test_mla_cost_equals_flop_counter_on_the_module(mode, q_lora_rank, n_q):
    cfg = ar.MLAConfig(d_model=16, n_heads=2, head_dim=4, kv_lora_rank=6, q_lora_rank=q_lora_rank, rope_head_dim=2,
                       v_head_dim=3)
    torch.manual_seed(0)
    m = ar.MultiHeadLatentAttention(cfg).to(D64)
    x = torch.randn(2, 5 + n_q, 16, dtype=D64)
    cache = ar.MLACache()
    m(x[:, :5], cache=cache)
    got = _count(lambda: m(x[:, 5:], cache=cache, mode=mode))
    cost = ar.mla_attention_cost(cfg, n_k=5 + n_q, n_q=n_q, mode=mode, batch=2)
    assert got == cost["total"]


def test_mla_deepseek_v2_decode_numbers():
    """L09.4 / E9.9: absorbed decode does n_h·(2·576 + 2·512) = 278,528 FLOPs per cached token on 1,152 bytes."""
    n = 4096
    ab = ar.mla_attention_cost(ar.DEEPSEEK_V2, n_k=n, mode="absorbed")
    assert (ab["scores"] + ab["values"]) / n == 128 * (2 * 576 + 2 * 512) == 278_528
    assert ab["cache_bytes"] == n * 576 * 2
    assert ab["intensity"] == pytest.approx(241.78, abs=0.01)
    assert ab["intensity"] < ar.H100_SXM.ridge_point and ab["intensity"] > ar.H200.ridge_point
    ex = ar.mla_attention_cost(ar.DEEPSEEK_V2, n_k=n, mode="expanded")
    assert ex["intensity"] == 1.0  # per-head K/V cache: MHA-like, one FLOP per byte
    assert ex["cache_bytes"] == n * 128 * (128 + 64 + 128) * 2
    nv = ar.mla_attention_cost(ar.DEEPSEEK_V2, n_k=n, mode="naive")
    assert nv["kv_up"] == 2 * n * 512 * 128 * 256  # decompressing the whole latent cache every step
    assert ab["attention"] < ex["attention"] * 4 < nv["attention"]
    # prefill (n_q = n_k, causal): naive attention in 192/128 dims is cheaper than absorbed in 576/512
    pn = ar.mla_attention_cost(ar.DEEPSEEK_V2, n_k=n, n_q=n, mode="naive", causal=True)
    pa = ar.mla_attention_cost(ar.DEEPSEEK_V2, n_k=n, n_q=n, mode="absorbed", causal=True)
    assert pn["attention"] < pa["attention"]


# ------------------------------------------------------------------------------------------- roofline
def test_device_ridge_points_from_datasheets():
    assert ar.H100_SXM.ridge_point == pytest.approx(295.34, abs=0.01)  # 989.4 / 3.35
    assert ar.H200.ridge_point == pytest.approx(206.125)  # 989.4 / 4.8
    assert ar.A100_80GB.ridge_point == pytest.approx(312 / 2.039)
    assert ar.DEVICES["h100_sxm"] is ar.H100_SXM and "datasheet" in ar.H200.source


def test_roofline_bounds():
    mem = ar.roofline(2e9, 1e9, ar.H100_SXM)  # I = 2 FLOP/B
    assert mem.bound == "memory" and mem.intensity == 2.0
    assert mem.attainable_flops == pytest.approx(2 * 3.35e12) and mem.time == pytest.approx(1e9 / 3.35e12)
    comp = ar.roofline(1e15, 1e9, ar.H100_SXM)  # I = 1e6
    assert comp.bound == "compute" and comp.attainable_flops == 989.4e12
    assert comp.time == pytest.approx(1e15 / 989.4e12) and comp.memory_time < comp.compute_time
    ridge = ar.roofline(989.4e12, 3.35e12, ar.H100_SXM)
    assert ridge.bound == "compute" and ridge.compute_time == pytest.approx(ridge.memory_time) == pytest.approx(1.0)
    assert ar.arithmetic_intensity(10, 4) == 2.5


def test_decode_lower_bound_llama2_7b():
    """L04.2: 2 GiB of KV at 4K → ≥ 0.64 ms on H100, ≥ 0.45 ms on H200; weights 13.5 GB → ≈ 4.0 / 2.8 ms."""
    kv = ar.LLAMA2_7B.kv_cache_bytes(4096)
    assert kv == 2 * 2**30
    assert ar.decode_time_lower_bound(kv, ar.H100_SXM) == pytest.approx(0.641e-3, rel=1e-3)
    assert ar.decode_time_lower_bound(kv, ar.H200) == pytest.approx(0.447e-3, rel=1e-3)
    weights = ar.LLAMA2_7B.n_params() * 2
    assert weights == pytest.approx(13.48e9, rel=1e-3)
    assert ar.decode_time_lower_bound(weights, ar.H100_SXM) == pytest.approx(4.02e-3, rel=1e-3)
    assert ar.decode_time_lower_bound(weights, ar.H200) == pytest.approx(2.81e-3, rel=1e-3)
    assert ar.LLAMA2_7B.decode_bytes(4096) == weights + kv
    step = ar.roofline(ar.LLAMA2_7B.layer_flops(1, n_k=4096)["total"] * 32, weights + kv, ar.H100_SXM)
    assert step.bound == "memory" and step.intensity < 2  # batch-1 decode: ~1 FLOP per byte


# ------------------------------------------------------------------------------------ FA-1 vs FA-2 traffic
def test_attention_io_o_writes_per_kv_block_vs_once():
    n, d = 8, 2
    _, fa1 = ar.attention_io(n, d, 64, method="flash", version=1, block_r=2, block_c=4, breakdown=True)
    _, fa2 = ar.attention_io(n, d, 64, method="flash", version=2, block_r=2, block_c=4, breakdown=True)
    assert (fa1["T_r"], fa1["T_c"]) == (4, 2)
    assert fa1["O_block_writes"] == 8 and fa1["O_write_elems"] == 2 * n * d and fa1["stat_write_elems"] == 2 * 2 * n
    assert fa2["O_block_writes"] == 4 and fa2["O_write_elems"] == n * d and fa2["stat_write_elems"] == n
    # FA-1's trace writes one O tile per (K/V block, Q block) step, as the IO model counts
    trace = []
    q = torch.randn(1, 1, n, d, dtype=D64)
    ar.flash_attention(q, q, q, block_q=2, block_k=4, version=1, trace=trace)
    assert sum(s.kind == "flash.step" for s in trace) == fa1["O_block_writes"]


# ---------------------------------------------------------------------------------------- state sizes
def test_recurrent_state_sizes_match_the_modules():
    blk = ar.MambaBlock(8, d_state=4, d_conv=3, expand=2)
    conv, ssm = blk.initial_state(1)
    assert ar.mamba_state_elems(8, 4, 3, 2) == ssm.numel() + conv.numel() - 16 == 16 * 4 + 16 * 2
    _, final = ar.ssd(torch.randn(1, 5, 3, 2), torch.rand(1, 5, 3), -torch.rand(3), torch.randn(1, 5, 4),
                      torch.randn(1, 5, 4), return_final_state=True)
    assert ar.ssd_state_elems(3, 2, 4) == final.numel() == 24
    _, (S, z) = ar.linear_attention(*(torch.randn(1, 3, 4, 5) for _ in range(3)), return_state=True)
    assert ar.linear_attention_state_elems(5, 5, 3) == S.numel() + z.numel() == 3 * (25 + 5)
    # a KV cache of (d_h + 1)/2 = 3 tokens holds as much as linear attention's whole state
    n = ar.kv_cache_equivalent_length(ar.linear_attention_state_elems(5, 5, 3), 3, 5)
    assert n == 3.0 and ar.softmax_kv_cache_elems(3, 5, 5, 3) == ar.linear_attention_state_elems(5, 5, 3)
    # Mamba (d_model 2560, N 16, d_conv 4, expand 2) vs one Llama-2-7B layer's KV (8192 per token): ~12 tokens
    mamba = ar.mamba_state_elems(2560)
    assert mamba == 5120 * 16 + 5120 * 3 == 97_280 and ar.kv_cache_equivalent_length(mamba, 32, 128) == 11.875


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"mlp must be one of .*got 'moe'"):
        ar.layer_flops(4, 16, 4, mlp="moe")
    with pytest.raises(ValueError, match=r"n_heads \(4\) must be divisible by n_kv_heads \(3\)"):
        ar.layer_flops(4, 16, 4, 3)
    with pytest.raises(TypeError, match="device must be a DeviceSpec"):
        ar.roofline(1.0, 1.0, "h100")
    with pytest.raises(ValueError, match=r"nbytes must be > 0, got 0"):
        ar.arithmetic_intensity(1.0, 0)
    with pytest.raises(ValueError, match=r"mode must be one of .*got 'fast'"):
        ar.mla_attention_cost(ar.DEEPSEEK_V2, 10, mode="fast")
    with pytest.raises(TypeError, match="config must be an MLAConfig"):
        ar.mla_attention_cost(ar.LLAMA2_7B, 10)
    assert math.isfinite(ar.attention_mlp_crossover(16, 4))


# ------------------------------------------------------------------------------- score bytes, token budget
@pytest.mark.parametrize("b,h,nq,nk,dtype", [(1, 1, 5, 7, torch.float16), (2, 3, 4, 4, torch.float32),
                                             (1, 2, 3, 9, torch.float64)])
def test_score_matrix_bytes_is_the_materialised_tensor(b, h, nq, nk, dtype):
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(b, h, nq, 8, generator=g).to(dtype), torch.randn(b, h, nk, 8, generator=g).to(dtype)
    s = q @ k.transpose(-1, -2)                                   # what naive attention writes
    elem = torch.finfo(dtype).bits // 8
    assert ar.score_matrix_bytes(b, h, nq, nk, elem) == s.numel() * s.element_size()


def test_score_matrix_bytes_plan_figures():
    # lecture plan L04.2: (1, 32, 16K) in fp16 is 16 GiB per tensor; the bench's score_matrix_bytes at (1, 8, 16K)
    assert ar.score_matrix_bytes(1, 32, 16384, 16384) == 16 * 2**30
    assert ar.score_matrix_bytes(1, 8, 16384, 16384) == 4_294_967_296
    assert ar.score_matrix_bytes(1, 32, 2 * 16384, 2 * 16384) == 4 * ar.score_matrix_bytes(1, 32, 16384, 16384)
    with pytest.raises(ValueError, match="n_q"):
        ar.score_matrix_bytes(1, 1, 0, 4)


def test_kv_token_budget_against_a_counting_loop():
    for mem, w, per in ((1000, 100, 7), (1000, 0, 1000), (999, 0, 1000), (10**6, 123_456, 4096)):
        t = 0
        while w + (t + 1) * per <= mem:                         # the largest t whose cache fits
            t += 1
        assert ar.kv_token_budget(mem, w, per) == t
    with pytest.raises(ValueError, match="do not fit"):
        ar.kv_token_budget(10, 11, 1)


def test_kv_token_budget_llama2_7b_on_an_80gb_h100():
    w = ar.LLAMA2_7B.n_params() * 2
    per = ar.LLAMA2_7B.kv_bytes_per_token()
    budget = ar.kv_token_budget(ar.H100_SXM.memory_bytes, w, per)
    assert (w, per) == (13_476_831_232, 524_288)
    assert budget == (80 * 10**9 - 13_476_831_232) // 524_288 == 126_882
    assert 30 * 4096 <= budget < 31 * 4096 and budget < 131_072      # 30 requests of 4K, not one 128K request
    assert ar.kv_token_budget(80e9, w, per // 4) == (80 * 10**9 - w) // (per // 4)


# --------------------------------------------------------------------------- exact causal attention FLOPs
def _loop_causal_attention(q, k, v):
    """Attention of the newest n_q positions over n_k keys by a direct loop in plain Python floats (lower-right
    causal), counting every multiply and add of q·k and p·v: the work a causal kernel must do."""
    n_q, n_k, d = len(q), len(k), len(q[0])
    out, flops = [], 0
    for i in range(n_q):
        allowed = range(n_k - n_q + i + 1)
        scores = []
        for j in allowed:
            s = 0.0
            for c in range(d):
                s += q[i][c] * k[j][c]
                flops += 2
            scores.append(s / math.sqrt(d))
        mx = max(scores)
        w = [math.exp(s - mx) for s in scores]
        w = [x / sum(w) for x in w]
        row = [0.0] * len(v[0])
        for jj, j in enumerate(allowed):
            for c in range(len(v[0])):
                row[c] += w[jj] * v[j][c]
                flops += 2
        out.append(row)
    return out, flops


@pytest.mark.parametrize("n_q,n_k", [(1, 1), (1, 7), (3, 7), (5, 5), (4, 9)])
def test_causal_attention_flops_count_the_loops_work(n_q, n_k):
    d = 3
    g = torch.Generator().manual_seed(n_q * 10 + n_k)
    q, k, v = (torch.randn(n, d, generator=g, dtype=torch.float64) for n in (n_q, n_k, n_k))
    out, flops = _loop_causal_attention(q.tolist(), k.tolist(), v.tolist())
    assert ar.causal_attention_flops(n_q, n_k, d) == flops
    # the loop is the right attention: torch's SDPA with the lower-right mask built by hand
    mask = torch.tensor([[j <= n_k - n_q + i for j in range(n_k)] for i in range(n_q)])
    ref = nn.functional.scaled_dot_product_attention(q[None], k[None], v[None], attn_mask=mask)[0]
    assert torch.allclose(torch.tensor(out, dtype=torch.float64), ref, atol=1e-12, rtol=0)
    assert ar.causal_attention_flops(n_q, n_k, d, n_heads=4, batch=2) == 8 * flops


def test_causal_attention_flops_closed_forms():
    d = 128
    for t in (1, 2, 10, 4096):
        assert ar.causal_attention_flops(t, t, d) == 2 * d * t * (t + 1)      # prefill of t tokens
        assert ar.causal_attention_flops(1, t, d) == 4 * d * t                # one decode step against t keys
        # FlashAttention's convention (half the full matrix) leaves out the diagonal: 2·d·t more
        assert ar.causal_attention_flops(t, t, d) - ar.attention_flops(1, 1, t, t, d, causal=True) == 2 * d * t
    with pytest.raises(ValueError, match=r"n_q must be <= n_k .* got n_q=3, n_k=2"):
        ar.causal_attention_flops(3, 2, 8)
    with pytest.raises(ValueError, match="head_dim"):
        ar.causal_attention_flops(1, 2, 0)
