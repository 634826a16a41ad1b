"""One test per trace kind (attn_ref/trace.py's table): the trace's final state equals the function's output,
and its intermediate fields recombine into that output by the algorithm's own formula, re-derived here."""
import itertools
import math

import pytest
import torch

import attn_ref as ar
from attn_ref.trace import Trace

D64 = torch.float64
EXACT = {"atol": 0, "rtol": 0}
TOL = {"atol": 1e-10, "rtol": 1e-10}


def _randn(*shape, seed=0):
    return torch.randn(*shape, dtype=D64, generator=torch.Generator().manual_seed(seed))


# --------------------------------------------------------------------------------------------- flash
@pytest.mark.parametrize("version", [1, 2])
def test_flash_trace_final_state_is_the_output(version):
    q, k, v = _randn(1, 2, 5, 4, seed=1), _randn(1, 2, 7, 4, seed=2), _randn(1, 2, 7, 3, seed=3)
    tr = Trace()
    out, lse = ar.flash_attention(q, k, v, block_q=2, block_k=3, version=version, return_lse=True, trace=tr)
    assert tr[-1].kind == "flash.final" and len(tr.of_kind("flash.step")) == 3 * 3
    torch.testing.assert_close(tr[-1]["O"], out, **EXACT)
    torch.testing.assert_close(tr[-1]["lse"], lse, **EXACT)
    steps = tr.of_kind("flash.step")
    for i, (r0, r1) in enumerate([(0, 2), (2, 4), (4, 5)]):
        last = [s for s in steps if s.index[0] == i][-1]  # the row block after its last K/V block
        o_rows = last["O"][..., r0:r1, :] if version == 1 else last["O"] / last["l"][..., None]
        torch.testing.assert_close(o_rows, out[..., r0:r1, :], **TOL)  # v2: O / ℓ once at the end
        torch.testing.assert_close(last["m"] + torch.log(last["l"]), lse[..., r0:r1], **TOL)
    oracle = torch.softmax(q @ k.transpose(-1, -2) / 2.0, -1) @ v
    torch.testing.assert_close(out, oracle, **TOL)


def test_flash_decoding_trace_merges_the_splits():
    q, k, v = _randn(2, 3, 1, 4, seed=4), _randn(2, 3, 11, 4, seed=5), _randn(2, 3, 11, 4, seed=6)
    tr = Trace()
    out, lse = ar.flash_decoding(q, k, v, n_splits=3, return_lse=True, trace=tr)
    splits, merge = tr.of_kind("flash_decoding.split"), tr[-1]
    assert merge.kind == "flash_decoding.merge" and [s.index for s in splits] == [(0,), (1,), (2,)]
    torch.testing.assert_close(merge["O"], out, **EXACT)
    lse_all = torch.stack([s["lse_s"] for s in splits])
    torch.testing.assert_close(torch.logsumexp(lse_all, 0), lse, **TOL)  # merge rule, re-derived
    merged = sum(torch.exp(s["lse_s"] - lse)[..., None] * s["O_s"] for s in splits)
    torch.testing.assert_close(merged, out, **TOL)
    torch.testing.assert_close(out, torch.softmax(q @ k.transpose(-1, -2) / 2.0, -1) @ v, **TOL)


# ------------------------------------------------------------------------------------- KV-cache decoding
@pytest.fixture(scope="module")
def decoder():
    cfg = ar.DecoderConfig(vocab_size=20, d_model=16, n_layers=2, n_heads=4, n_kv_heads=2, d_ff=24, max_len=16,
                           seed=2)
    return ar.TinyDecoder(cfg).to(D64).eval()


def test_generate_trace_carries_cache_query_weights_and_the_sampled_token(decoder):
    prompt = [[3, 4, 5], [7, 8]]  # left-padded to length 3
    cached, recomputed = Trace(), Trace()
    out = ar.generate(decoder, prompt, 3, temperature=0.9, top_k=6, seed=4, trace=cached)
    out2 = ar.generate(decoder, prompt, 3, temperature=0.9, top_k=6, seed=4, trace=recomputed, use_cache=False)
    assert torch.equal(out, out2)
    steps = cached.of_kind("decode.step")
    assert [s.index for s in steps] == [(0,), (1,), (2,)]
    assert torch.equal(steps[-1]["token"], out[:, -1])  # final state = output
    for t, (s, r) in enumerate(zip(steps, recomputed.of_kind("decode.step"), strict=True)):
        n_k = 3 + t
        assert s["keys"].shape == (2, 2, 2, n_k, 4) and s["query"].shape == (2, 2, 4, 4)
        assert s["weights"].shape == (2, 2, 4, n_k) and s["cache_len"] == n_k and s["context_len"] == n_k
        for key in ("query", "keys", "values", "weights", "probs"):  # cache or not: the same attention
            torch.testing.assert_close(s[key], r[key], **TOL)
        # weights = softmax(q·k/√d_h) over real keys, GQA: query head h reads kv head h // 2
        keys = s["keys"].repeat_interleave(2, dim=2)
        logits = torch.einsum("lbhd,lbhnd->lbhn", s["query"], keys) / 2.0
        real = torch.tensor([[True] * n_k, [False] + [True] * (n_k - 1)])[None, :, None, :]
        torch.testing.assert_close(s["weights"], torch.softmax(logits.masked_fill(~real, -math.inf), -1), **TOL)
        assert s["probs"][torch.arange(2), s["token"]].min() > 0 and int((s["probs"][0] > 0).sum()) == 6
        torch.testing.assert_close(s["probs"], ar.sampling_distribution(s["logits"], 0.9, 6), **EXACT)
        assert torch.equal(s["token"], out[:, 3 + t])


def test_mha_forward_trace_per_layer(decoder):
    tr = Trace()
    with torch.no_grad():
        logits = decoder(torch.tensor([[1, 2, 3, 4]]), trace=tr)
    steps = tr.of_kind("mha.forward")
    assert [s.index for s in steps] == [(0,), (1,)]
    attn = decoder.blocks[0].attn
    for s in steps:
        w = torch.softmax((s["q"] @ s["k"].repeat_interleave(2, 1).transpose(-1, -2) / 2.0)
                          .masked_fill(~ar.causal_mask(4, 4), -math.inf), -1)
        torch.testing.assert_close(s["weights"], w, **TOL)
    heads = (steps[0]["weights"] @ steps[0]["v"].repeat_interleave(2, 1)).transpose(1, 2).reshape(1, 4, 16)
    torch.testing.assert_close(steps[0]["output"], attn.o_proj(heads), **TOL)  # final state = layer output
    assert logits.shape == (1, 4, 20)


# ------------------------------------------------------------------------------------- linear attention
def test_linear_recurrent_trace_final_state_is_the_output():
    q, k, v = _randn(1, 2, 6, 3, seed=7), _randn(1, 2, 6, 3, seed=8), _randn(1, 2, 6, 2, seed=9)
    tr = Trace()
    y, (S, z) = ar.linear_attention(q, k, v, form="recurrent", trace=tr, return_state=True)
    steps = tr.of_kind("linear.step")
    assert len(steps) == 6
    torch.testing.assert_close(steps[-1]["S"], S, **TOL)
    torch.testing.assert_close(steps[-1]["z"], z, **TOL)
    torch.testing.assert_close(torch.stack([s["y"] for s in steps], 2), y, **EXACT)
    fq = torch.nn.functional.elu(q) + 1  # y_t = φ(q_t)ᵀ S_t / (φ(q_t)ᵀ z_t + eps), from the traced state
    for t, s in enumerate(steps):
        num = torch.einsum("bhd,bhde->bhe", fq[:, :, t], s["S"])
        den = (fq[:, :, t] * s["z"]).sum(-1, keepdim=True) + 1e-6
        torch.testing.assert_close(num / den, y[:, :, t], **TOL)
    tr_nc = Trace()
    y_nc = ar.linear_attention(q, k, v, causal=False, form="recurrent", trace=tr_nc)
    assert tr_nc[-1].kind == "linear.output"
    torch.testing.assert_close(tr_nc[-1]["y"], y_nc, **EXACT)


def test_linear_chunked_trace_final_state_is_the_output():
    q, k, v = _randn(1, 1, 7, 3, seed=10), _randn(1, 1, 7, 3, seed=11), _randn(1, 1, 7, 2, seed=12)
    tr = Trace()
    y, (S, _z) = ar.linear_attention(q, k, v, form="chunked", chunk=3, trace=tr, return_state=True)
    chunks = tr.of_kind("linear.chunk")
    assert len(chunks) == 3
    torch.testing.assert_close(chunks[-1]["S"], S, **TOL)
    torch.testing.assert_close(torch.cat([c["y"] for c in chunks], 2), y, **EXACT)


# --------------------------------------------------------------------------------------------- SSMs
@pytest.mark.parametrize("method", ["sequential", "parallel"])
def test_selective_scan_trace_final_state_is_the_output(method):
    u, delta = _randn(1, 3, 5, seed=13), _randn(1, 3, 5, seed=14).abs()
    A, B, C = -_randn(3, 4, seed=15).abs(), _randn(1, 4, 5, seed=16), _randn(1, 4, 5, seed=17)
    tr = Trace()
    y, last = ar.selective_scan(u, delta, A, B, C, method=method, trace=tr, return_last_state=True)
    if method == "sequential":
        steps = tr.of_kind("scan.step")
        torch.testing.assert_close(steps[-1]["h"], last, **EXACT)
        torch.testing.assert_close(torch.stack([s["y"] for s in steps], 2), y, **EXACT)
        h = torch.zeros_like(last)
        for s in steps:  # h_t = Ā_t h_{t−1} + B̄_t u_t from the traced factors
            h = s["dA"] * h + s["dBu"]
            torch.testing.assert_close(s["h"], h, **TOL)
    else:
        levels = tr.of_kind("scan.level")
        assert [s["offset"] for s in levels] == [1, 2, 4]
        torch.testing.assert_close(levels[-1]["b"][:, :, -1], last, **EXACT)  # all prefixes composed
        torch.testing.assert_close((levels[-1]["b"] * C.transpose(1, 2)[:, None]).sum(-1), y, **TOL)


@pytest.mark.parametrize("form", ["chunked", "recurrent"])
def test_ssd_trace_final_state_is_the_output(form):
    x, dt = _randn(1, 7, 2, 3, seed=18), _randn(1, 7, 2, seed=19).abs()
    A, B, C = -_randn(2, seed=20).abs(), _randn(1, 7, 4, seed=21), _randn(1, 7, 4, seed=22)
    tr = Trace()
    y, final = ar.ssd(x, dt, A, B, C, chunk=3, form=form, trace=tr, return_final_state=True)
    if form == "chunked":
        chunks = tr.of_kind("ssd.chunk")
        assert len(chunks) == 3
        torch.testing.assert_close(chunks[-1]["state"], final, **TOL)
        torch.testing.assert_close(torch.cat([c["y"] for c in chunks], 1), y, **EXACT)
        for prev, c in itertools.pairwise(chunks):  # state passing: h_c = decay·h_{c−1} + s_c
            torch.testing.assert_close(c["state_in"], prev["state"], **TOL)
            torch.testing.assert_close(c["state"], c["decay"][..., None, None] * c["state_in"] + c["chunk_state"],
                                       **TOL)
    else:
        steps = tr.of_kind("ssd.step")
        torch.testing.assert_close(steps[-1]["h"], final, **EXACT)
        torch.testing.assert_close(torch.stack([s["y"] for s in steps], 1), y, **EXACT)


# ------------------------------------------------------------------------------------------------ MoE
def test_moa_route_trace_and_output():
    torch.manual_seed(5)
    m = ar.MixtureOfAttentionHeads(6, n_experts=3, top_k=2, head_dim=4, capacity_factor=0.5).to(D64)
    x = _randn(2, 4, 6, seed=23)
    tr = Trace()
    y = m(x, trace=tr)
    route, last = tr.of_kind("moe.route")[0], tr[-1]
    assert last.kind == "moe.output"
    torch.testing.assert_close(last["output"], y, **EXACT)
    torch.testing.assert_close(route["probs"], torch.softmax(route["logits"], -1), **TOL)
    torch.testing.assert_close(route["gates"].sum(-1), torch.ones(8, dtype=D64), **TOL)
    assert torch.equal(route["expert_index"], route["probs"].topk(2, -1).indices)
    assert route["capacity"] == math.ceil(0.5 * 8 * 2 / 3) == 3
    counts = torch.bincount(route["expert_index"].flatten(), minlength=3)
    assert int(route["dropped"].sum()) == int((counts - 3).clamp(min=0).sum()) > 0  # dropped ones reported
    # the output recombines per-token expert outputs with the traced (undropped) gates
    q = torch.einsum("bld,edh->belh", x, m.w_q)
    heads = ar.sdpa(q, m.k_proj(x)[:, None], m.v_proj(x)[:, None], is_causal=True, enable_gqa=True)
    expert_out = torch.einsum("belh,ehd->bled", heads, m.w_o).reshape(8, 3, 6)
    want = torch.zeros(8, 6, dtype=D64)
    for t in range(8):
        for j in range(2):
            if not route["dropped"][t, j]:
                want[t] += route["gates"][t, j] * expert_out[t, route["expert_index"][t, j]]
    torch.testing.assert_close(want.reshape(2, 4, 6), y, **TOL)


def test_switchhead_route_trace_and_output():
    torch.manual_seed(6)
    m = ar.SwitchHeadAttention(8, n_heads=2, n_experts=3, top_k=2, head_dim=4).to(D64)
    x = _randn(1, 5, 8, seed=24)
    tr = Trace()
    y, aux = m(x, return_aux=True, trace=tr)
    routes = tr.of_kind("moe.route")
    assert [r.index for r in routes] == [("v",), ("o",)] and tr[-1].kind == "moe.output"
    torch.testing.assert_close(tr[-1]["output"], y, **EXACT)
    for r, side in zip(routes, "vo", strict=True):
        assert set(r.state) == {"logits", "probs", "expert_index", "gates", "dropped", "capacity"}
        torch.testing.assert_close(r["probs"], torch.sigmoid(r["logits"]), **TOL)
        assert torch.equal(r["expert_index"], aux[f"{side}_index"]) and not r["dropped"].any()
        torch.testing.assert_close(r["gates"], r["probs"].gather(-1, r["expert_index"]), **EXACT)


# -------------------------------------------------------------------------------------- differential
def test_differential_trace_final_state_is_the_output():
    torch.manual_seed(7)
    m = ar.DifferentialAttention(8, 1, depth=3, use_norm=False).to(D64)
    x = _randn(1, 5, 8, seed=25)
    tr = Trace()
    out = m(x, trace=tr)
    s = tr.of_kind("diff.layer")[0]
    assert s.index == (3,) and s["lambda_init"] == pytest.approx(0.8 - 0.6 * math.exp(-0.9))
    torch.testing.assert_close(s["output"], out, **EXACT)
    torch.testing.assert_close(s["diff"], s["attn1"] - s["lambda"] * s["attn2"], **TOL)
    v = m.v_proj(x).view(1, 5, 1, 8).transpose(1, 2)
    torch.testing.assert_close(m.out_proj((s["diff"] @ v).transpose(1, 2).reshape(1, 5, 8)), out, **TOL)


# ---------------------------------------------------------------------------------------------- MLA
@pytest.mark.parametrize("mode", ["naive", "absorbed"])
def test_mla_trace_intermediates_recombine_into_the_output(mode):
    torch.manual_seed(8)
    cfg = ar.MLAConfig(d_model=16, n_heads=2, head_dim=4, kv_lora_rank=6, q_lora_rank=8, rope_head_dim=2,
                       v_head_dim=3)
    m = ar.MultiHeadLatentAttention(cfg).to(D64)
    x = _randn(1, 4, 16, seed=26)
    cache = ar.MLACache()
    m(x[:, :3], cache=cache, mode=mode)
    tr = Trace()
    out = m(x[:, 3:], cache=cache, mode=mode, trace=tr)  # one decoded token against 4 cached
    s = tr[-1]
    assert s.kind == "mla.step" and s.index == (3,) and s["mode"] == mode
    torch.testing.assert_close(s["output"], out, **EXACT)
    torch.testing.assert_close(s["c_KV"], cache.c_kv, **EXACT)
    torch.testing.assert_close(s["k_R"], cache.k_rope, **EXACT)
    torch.testing.assert_close(s["weights"], torch.softmax(s["scores"], -1), **TOL)
    w_uk = m.W_UK.weight.view(2, 4, 6)
    w_uv = m.W_UV.weight.view(2, 3, 6)
    if mode == "naive":
        k_c = torch.einsum("hdc,blc->bhld", w_uk, s["c_KV"])
        torch.testing.assert_close(s["K"], torch.cat([k_c, s["k_R"][:, None].expand(1, 2, 4, 2)], -1), **TOL)
        torch.testing.assert_close(s["heads"], s["weights"] @ s["V"], **TOL)
    else:
        torch.testing.assert_close(s["q_absorbed"], torch.einsum("bhtd,hdc->bhtc", s["q_C"], w_uk), **TOL)
        scores = (torch.einsum("bhtc,blc->bhtl", s["q_absorbed"], s["c_KV"])
                  + torch.einsum("bhtr,blr->bhtl", s["q_R"], s["k_R"])) * cfg.scale
        torch.testing.assert_close(s["scores"], scores, **TOL)  # absorbed scores from the latent
        torch.testing.assert_close(s["o_latent"], s["weights"] @ s["c_KV"][:, None], **TOL)
        torch.testing.assert_close(s["heads"], torch.einsum("bhtc,hdc->bhtd", s["o_latent"], w_uv), **TOL)
    torch.testing.assert_close(m.W_O(s["heads"].transpose(1, 2).reshape(1, 1, 6)), out, **TOL)
