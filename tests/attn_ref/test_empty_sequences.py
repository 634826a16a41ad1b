"""Empty sequences across the whole public API of attn_ref (issue 20).

The rule: where the maths is an empty sum (no keys: Lk = 0, like a fully masked row and like PyTorch's SDPA)
the answer is zeros with finite gradients; no queries (L = 0) give an empty result; where an empty input is
meaningless the call raises ValueError/TypeError naming the argument. Never an IndexError or RuntimeError
from inside torch, never NaN. Every name in ``attn_ref.__all__`` is either exercised here with L = 0 and
Lk = 0 (where it has such lengths) or listed in NO_SEQUENCE with the reason.
"""
import pytest
import torch
import torch.nn.functional as F

import attn_ref as A

f64 = torch.float64
H, D = 2, 4


def rnd(*shape, grad=True, seed=0):
    g = torch.Generator().manual_seed(seed + sum(shape))
    return torch.randn(*shape, generator=g, dtype=f64).requires_grad_(grad)


def qkv(lq, lk, h=H, h_kv=H, d=D, dv=3):
    return rnd(1, h, lq, d), rnd(1, h_kv, lk, d, seed=1), rnd(1, h_kv, lk, dv, seed=2)


def module(cls, *args, **kw):
    torch.manual_seed(0)
    return cls(*args, **kw).to(f64)


def _kv_cache_update(lq):
    cache = A.KVCache(1, H, D, dtype=f64)
    return cache.update(rnd(1, H, lq, D), rnd(1, H, lq, D, seed=1))


def _mla():
    cfg = A.MLAConfig(d_model=16, n_heads=2, head_dim=4, kv_lora_rank=6, q_lora_rank=None, rope_head_dim=2)
    return module(A.MultiHeadLatentAttention, cfg)


def _ssm(lq):
    u = rnd(2, lq)
    A_bar, B_bar, C = rnd(2, 3, grad=False) * 0.5, rnd(2, 3, seed=1), rnd(2, 3, seed=2)
    return u, A_bar, B_bar, C


def _selective_scan(lq, method):
    d, n = 3, 2
    return A.selective_scan(rnd(1, d, lq), rnd(1, d, lq, seed=1), -torch.ones(d, n, dtype=f64),
                            rnd(1, n, lq, seed=2), rnd(1, n, lq, seed=3), method=method, return_last_state=True)


def _ssd(lq, form):
    b, h, p, n = 1, 2, 3, 2
    return A.ssd(rnd(b, lq, h, p), torch.rand(b, lq, h, dtype=f64) + 0.1, -torch.ones(h, dtype=f64),
                 rnd(b, lq, n, seed=1), rnd(b, lq, n, seed=2), chunk=2, form=form, return_final_state=True)


def _logits(t, e=4):
    return rnd(t, e)


# name -> {case label: (thunk, expected)}; expected: "ok" (no NaN; empty or finite), "zeros" (every output
# element is 0: the empty sum) or the argument name a ValueError/TypeError must name.
CASES = {
    "attention_lse": {"L=0": (lambda: A.attention_lse(*qkv(0, 3)[:2]), "ok"),
                      "Lk=0": (lambda: A.attention_lse(*qkv(3, 0)[:2]), "ok")},
    "attention_scores": {"L=0": (lambda: A.attention_scores(*qkv(0, 3)[:2]), "ok"),
                         "Lk=0": (lambda: A.attention_scores(*qkv(3, 0)[:2], is_causal=True), "ok")},
    "repeat_kv": {"L=0": (lambda: A.repeat_kv(rnd(1, 2, 0, D), 2), "ok")},
    "round_to_sum": {"L=0": (lambda: A.round_to_sum(torch.zeros(2, 0)), "ok"),
                     "rows=0": (lambda: A.round_to_sum(torch.zeros(0, 3)), "ok")},
    "sdpa": {"L=0": (lambda: A.sdpa(*qkv(0, 3)), "ok"),
             "Lk=0": (lambda: A.sdpa(*qkv(3, 0)), "zeros"),
             "Lk=0 causal": (lambda: A.sdpa(*qkv(3, 0), is_causal=True, causal_alignment="lower_right"), "zeros"),
             "Lk=0 gqa weights": (lambda: A.sdpa(*qkv(3, 0, h_kv=1), enable_gqa=True, return_weights=True), "zeros"),
             "L=Lk=0": (lambda: A.sdpa(*qkv(0, 0)), "ok")},
    "softmax": {"empty dim": (lambda: A.softmax(rnd(2, 0)), "ok"),
                "empty rows": (lambda: A.softmax(rnd(0, 3)), "ok")},
    "additive_to_bool": {"L=0": (lambda: A.additive_to_bool(torch.zeros(0, 0, dtype=f64)), "ok")},
    "bigbird_layout": {"L=0": (lambda: A.bigbird_layout(0), "num_blocks")},
    "bigbird_mask": {"L=0": (lambda: A.bigbird_mask(0, 2), "n")},
    "block_layout_to_mask": {"L=0": (lambda: A.block_layout_to_mask(torch.zeros(0, 2, dtype=torch.bool), 2), "ok"),
                             "Lk=0": (lambda: A.block_layout_to_mask(torch.zeros(2, 0, dtype=torch.bool), 2), "ok")},
    "bool_to_additive": {"L=0": (lambda: A.bool_to_additive(torch.zeros(0, 3, dtype=torch.bool)), "ok")},
    "causal_mask": {"L=0": (lambda: A.causal_mask(0, 3), "ok"), "Lk=0": (lambda: A.causal_mask(3, 0), "ok"),
                    "Lk=0 lower_right": (lambda: A.causal_mask(3, 0, "lower_right"), "ok")},
    "fixed_mask": {"L=0": (lambda: A.fixed_mask(0, 2, 1), "ok")},
    "key_padding_to_attn_mask": {"Lk=0": (lambda: A.key_padding_to_attn_mask(torch.zeros(1, 0, dtype=torch.bool)),
                                          "ok")},
    "longformer_mask": {"L=0": (lambda: A.longformer_mask(0, 2), "ok")},
    "padding_mask": {"L=0": (lambda: A.padding_mask([0], 0), "ok"), "no rows": (lambda: A.padding_mask([], 3), "ok")},
    "sink_window_mask": {"L=0": (lambda: A.sink_window_mask(0, 3, 2, 1), "ok"),
                         "Lk=0": (lambda: A.sink_window_mask(3, 0, 2, 1), "ok")},
    "sliding_window_mask": {"L=0": (lambda: A.sliding_window_mask(0, 3, 2), "ok"),
                            "Lk=0": (lambda: A.sliding_window_mask(3, 0, 2), "ok")},
    "strided_mask": {"L=0": (lambda: A.strided_mask(0, 2), "ok")},
    "block_sparse_attention": {
        "L=0": (lambda: A.block_sparse_attention(*qkv(0, 2), torch.zeros(0, 2, dtype=torch.bool), 1), "ok"),
        "Lk=0": (lambda: A.block_sparse_attention(*qkv(2, 0), torch.zeros(2, 0, dtype=torch.bool), 1), "zeros"),
        "L=Lk=0": (lambda: A.block_sparse_attention(*qkv(0, 0), torch.zeros(0, 0, dtype=torch.bool), 1), "ok")},
    "sliding_window_attention": {"L=0": (lambda: A.sliding_window_attention(*qkv(0, 3), 2), "ok"),
                                 "L=Lk=0": (lambda: A.sliding_window_attention(*qkv(0, 0), 2), "ok"),
                                 "Lk=0": (lambda: A.sliding_window_attention(*qkv(3, 0), 2), "q length")},
    "MultiHeadAttention": {
        "L=0": (lambda: module(A.MultiHeadAttention, 8, 2, rope=A.Rope(4))(rnd(1, 0, 8)), "ok"),
        "L=0 cache": (lambda: module(A.MultiHeadAttention, 8, 2, 1)(rnd(1, 0, 8), cache=A.KVCache(1, 1, 4, dtype=f64)),
                      "ok"),
        "Lk=0 cross": (lambda: module(A.MultiHeadAttention, 8, 2)(rnd(1, 3, 8), context=rnd(1, 0, 8)), "zeros")},
    "attention_flops": {"L=0": (lambda: A.attention_flops(1, 2, 0, 3, 4), "n_q"),
                        "Lk=0": (lambda: A.attention_flops(1, 2, 3, 0, 4), "n_k")},
    "Rope": {"L=0": (lambda: A.Rope(4)(rnd(1, 2, 0, 4), torch.arange(0)), "ok"),
             "L=0 dynamic": (lambda: A.Rope(4, scaling=A.RopeScaling("dynamic_ntk", 2.0, 8))(rnd(1, 2, 0, 4),
                                                                                             torch.arange(0)), "ok")},
    "apply_rope": {"L=0": (lambda: A.apply_rope(rnd(1, 2, 0, 4), torch.arange(0), A.rope_frequencies(4)[0]), "ok")},
    "rope_decay_bound": {"no distances": (lambda: A.rope_decay_bound([], head_dim=8), "ok")},
    "rope_frequencies": {"max_position=0": (lambda: A.rope_frequencies(4, max_position=0), "max_position")},
    "alibi_bias": {"L=0": (lambda: A.alibi_bias(2, 0, 3), "n_q"), "Lk=0": (lambda: A.alibi_bias(2, 3, 0), "n_k")},
    "sinusoidal_positions": {"L=0": (lambda: A.sinusoidal_positions(0, 4), "n")},
    "t5_bucket": {"L=0": (lambda: A.t5_bucket(torch.zeros(0, dtype=torch.long)), "ok")},
    "t5_relative_bias": {"L=0": (lambda: A.t5_relative_bias(0, 3, rnd(32, 2)), "n_q"),
                         "Lk=0": (lambda: A.t5_relative_bias(3, 0, rnd(32, 2)), "n_k")},
    "t5_relative_buckets": {"L=0": (lambda: A.t5_relative_buckets(0, 3), "n_q"),
                            "Lk=0": (lambda: A.t5_relative_buckets(3, 0), "n_k")},
    "KVCache": {"L=0 update": (lambda: _kv_cache_update(0), "ok")},
    "kv_cache_bytes": {"L=0": (lambda: A.kv_cache_bytes(1, 2, 4, 0), "seq_len")},
    "TinyDecoder": {"L=0": (lambda: A.TinyDecoder(A.DecoderConfig())(torch.zeros(1, 0, dtype=torch.long)), "ok")},
    "generate": {"empty prompt": (lambda: A.generate(A.TinyDecoder(A.DecoderConfig()),
                                                     torch.zeros(1, 0, dtype=torch.long), 2), "prompt"),
                 "empty list": (lambda: A.generate(A.TinyDecoder(A.DecoderConfig()), [[]], 2), "prompt")},
    "positions_from_mask": {"L=0": (lambda: A.positions_from_mask(torch.zeros(1, 0, dtype=torch.bool)), "ok")},
    "sampling_distribution": {"V=0": (lambda: A.sampling_distribution(rnd(2, 0)), "logits"),
                              "no rows": (lambda: A.sampling_distribution(rnd(0, 5)), "ok")},
    "FlashAttentionFunction": {
        "L=0": (lambda: A.FlashAttentionFunction.apply(*qkv(0, 3, dv=4)), "ok"),
        "Lk=0": (lambda: A.FlashAttentionFunction.apply(*qkv(3, 0, dv=4))[0], "zeros")},
    "attention_io": {"L=0": (lambda: A.attention_io(0, 4, 1024), "n")},
    "flash_attention": {"L=0": (lambda: A.flash_attention(*qkv(0, 3), block_q=2, block_k=2), "ok"),
                        "Lk=0": (lambda: A.flash_attention(*qkv(3, 0), block_q=2, block_k=2), "zeros"),
                        "Lk=0 causal": (lambda: A.flash_attention(*qkv(3, 0), causal=True,
                                                                  causal_alignment="lower_right"), "zeros"),
                        "L=Lk=0": (lambda: A.flash_attention(*qkv(0, 0)), "ok")},
    "flash_attention_autograd": {"L=0": (lambda: A.flash_attention_autograd(*qkv(0, 3)), "ok"),
                                 "Lk=0": (lambda: A.flash_attention_autograd(*qkv(3, 0)), "zeros")},
    "flash_decoding": {"L=0": (lambda: A.flash_decoding(*qkv(0, 3), 1), "ok"),
                       "Lk=0": (lambda: A.flash_decoding(*qkv(1, 0), 1), "n_splits")},
    "MLACache": {"T=0": (lambda: A.MLACache().append(rnd(1, 0, 6), rnd(1, 0, 2)), "ok")},
    "MultiHeadLatentAttention": {"L=0": (lambda: _mla()(rnd(1, 0, 16)), "ok"),
                                 "L=0 absorbed": (lambda: _mla()(rnd(1, 0, 16), mode="absorbed"), "ok")},
    "linear_attention": {"L=0": (lambda: A.linear_attention(*qkv(0, 0)), "ok"),
                         "Lk=0": (lambda: A.linear_attention(*qkv(3, 0), causal=False), "zeros"),
                         "L=0 recurrent": (lambda: A.linear_attention(*qkv(0, 0), form="recurrent"), "ok"),
                         "L=0 chunked": (lambda: A.linear_attention(*qkv(0, 0), form="chunked", chunk=2), "ok")},
    "softmax_kv_cache_elems": {"L=0": (lambda: A.softmax_kv_cache_elems(0, 4, 4, 2), "seq_len")},
    "s4d_kernel": {"L=0": (lambda: A.s4d_kernel(-torch.ones(2, 3, dtype=f64), rnd(2, 3), rnd(2, 3, seed=1), 0.1, 0),
                           "length")},
    "segsum": {"L=0": (lambda: A.segsum(rnd(2, 0)), "ok")},
    "selective_scan": {"L=0": (lambda: _selective_scan(0, "sequential"), "ok"),
                       "L=0 parallel": (lambda: _selective_scan(0, "parallel"), "ok")},
    "ssd": {f"L=0 {form}": ((lambda form=form: _ssd(0, form)), "ok") for form in ("chunked", "quadratic", "recurrent")},
    "ssm_convolution": {"L=0": (lambda: A.ssm_convolution(rnd(2, 0), rnd(2, 3)), "ok")},
    "ssm_recurrence": {"L=0": (lambda: A.ssm_recurrence(*_ssm(0), return_state=True), "ok")},
    "MambaBlock": {"L=0": (lambda: module(A.MambaBlock, 8)(rnd(1, 0, 8)), "ok"),
                   "L=0 state": (lambda: module(A.MambaBlock, 8)(rnd(1, 0, 8), return_state=True), "ok"),
                   "L=0 parallel": (lambda: module(A.MambaBlock, 8)(rnd(1, 0, 8), method="parallel"), "ok")},
    "DifferentialAttention": {"L=0": (lambda: module(A.DifferentialAttention, 16, 2, 1)(rnd(1, 0, 16)), "ok"),
                              "L=0 rope maps": (lambda: module(A.DifferentialAttention, 16, 2, 1, rope="half")(
                                  rnd(1, 0, 16), return_maps=True), "ok")},
    "MixtureOfAttentionHeads": {"L=0": (lambda: module(A.MixtureOfAttentionHeads, 8, 2, 1, 4)(rnd(1, 0, 8)), "ok"),
                                "L=0 aux": (lambda: module(A.MixtureOfAttentionHeads, 8, 2, 1, 4, capacity_factor=1.0)(
                                    rnd(1, 0, 8), return_aux=True), "ok")},
    "SwitchHeadAttention": {"L=0": (lambda: module(A.SwitchHeadAttention, 8, 2, 2, 1, 4)(rnd(1, 0, 8)), "ok"),
                            "L=0 aux": (lambda: module(A.SwitchHeadAttention, 8, 2, 2, 1, 4)(rnd(1, 0, 8),
                                                                                            return_aux=True), "ok")},
    "router_z_loss": {"T=0": (lambda: A.router_z_loss(_logits(0)), "zeros"),
                      "E=0": (lambda: A.router_z_loss(_logits(3, 0)), "logits")},
    "switch_load_balancing_loss": {"T=0": (lambda: A.switch_load_balancing_loss(
        _logits(0).softmax(-1), torch.zeros(0, dtype=torch.long), 4), "zeros")},
    "top_k_route": {"T=0": (lambda: A.top_k_route(_logits(0), 1), "ok"),
                    "T=0 capacity": (lambda: A.top_k_route(_logits(0), 2, capacity_factor=1.0), "ok")},
    "layer_flops": {"L=0": (lambda: A.layer_flops(0, 16, 2), "n_q")},
    "causal_attention_flops": {"Lq=0": (lambda: A.causal_attention_flops(0, 4, 8), "n_q"),
                               "Lk=0": (lambda: A.causal_attention_flops(1, 0, 8), "n_k")},
    "mla_attention_cost": {"Lk=0": (lambda: A.mla_attention_cost(A.DEEPSEEK_V2, 0), "n_k")},
}

# Public callables with no sequence length among their arguments (sizes of weights, configurations, counts).
NO_SEQUENCE = {
    "Trace": "a list of trace steps", "TraceStep": "one recorded step",
    "attention_params": "weight counts", "mha_to_gqa": "converts weights", "RopeScaling": "a configuration",
    "permute_rope_weight": "permutes weights", "rope_permutation": "a channel permutation",
    "yarn_get_mscale": "a scalar", "alibi_slopes": "per head", "DecoderConfig": "a configuration",
    "MLAConfig": "a configuration", "mha_cache_elems_per_token": "per token",
    "mla_cache_elems_per_token": "per token", "get_feature_map": "a lookup",
    "linear_attention_state_elems": "a state size", "discretize_bilinear": "per channel",
    "discretize_zoh": "per channel", "lambda_init": "a scalar", "Routing": "a result tuple",
    "DeviceSpec": "a device description", "Roofline": "a result tuple", "arithmetic_intensity": "a ratio",
    "attention_mlp_crossover": "solves for the length", "decode_time_lower_bound": "bytes to time",
    "kv_cache_equivalent_length": "solves for the length", "mamba_state_elems": "a state size",
    "roofline": "flops and bytes", "ssd_state_elems": "a state size", "ModelConfig": "a configuration",
    "score_matrix_bytes": "a byte count", "kv_token_budget": "bytes to tokens", "needle_weight": "a scalar",
    "needle_margin": "a scalar", "trace_io": "counts from a trace",
}


def test_every_public_callable_is_covered():
    public = {name for name in A.__all__ if callable(getattr(A, name))}
    assert not set(CASES) & set(NO_SEQUENCE)
    assert public - set(CASES) - set(NO_SEQUENCE) == set(), "a public callable without an empty-sequence case"
    assert set(CASES) | set(NO_SEQUENCE) <= public, "a case for a name that is not public"


def _tensors(out):
    if isinstance(out, torch.Tensor):
        yield out
    elif isinstance(out, dict):
        for v in out.values():
            yield from _tensors(v)
    elif isinstance(out, (tuple, list)):
        for v in out:
            yield from _tensors(v)


@pytest.mark.parametrize("name,label", [(n, c) for n, cases in CASES.items() for c in cases])
def test_empty_sequence(name, label):
    thunk, expected = CASES[name][label]
    if expected not in ("ok", "zeros"):
        with pytest.raises((ValueError, TypeError)) as info:
            thunk()
        assert expected in str(info.value), f"{name} {label}: the error must name {expected!r}: {info.value}"
        return
    out = thunk()
    tensors = list(_tensors(out))
    floats = [t for t in tensors if t.is_floating_point() or t.is_complex()]
    for t in floats:
        assert not torch.isnan(t).any(), f"{name} {label}: NaN in the output"
    if expected == "zeros":
        assert floats and floats[0].numel() > 0 and torch.all(floats[0] == 0), f"{name} {label}: not the empty sum 0"
    graded = [t for t in floats if t.requires_grad and torch.isfinite(t).all()]
    if graded:
        leaves = [t for t in _leaves(graded)]
        total = sum(t.sum() for t in graded)
        grads = torch.autograd.grad(total, leaves, allow_unused=True)
        for g in grads:
            assert g is None or torch.isfinite(g).all(), f"{name} {label}: non-finite gradient"


def _leaves(outputs):
    """The leaf tensors requiring grad that the outputs depend on."""
    seen, stack, found = set(), [t.grad_fn for t in outputs], [t for t in outputs if t.grad_fn is None]
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        if hasattr(fn, "variable"):
            found.append(fn.variable)
        stack.extend(f for f, _ in fn.next_functions)
    return list({id(t): t for t in found}.values())


def test_empty_sums_match_torch_and_a_fully_masked_row():
    """Lk = 0 is torch SDPA's zeros, and the same answer as keys that are all masked out (independent oracles)."""
    q, k, v = qkv(3, 0)
    torch.testing.assert_close(A.sdpa(q, k, v), F.scaled_dot_product_attention(q, k, v), atol=0, rtol=0)
    q, k, v = qkv(3, 2)
    masked = A.sdpa(q, k, v, attn_mask=torch.zeros(3, 2, dtype=torch.bool))
    torch.testing.assert_close(A.sdpa(q, k[..., :0, :], v[..., :0, :]), masked, atol=0, rtol=0)
    assert torch.isneginf(A.attention_lse(q, k[..., :0, :])).all()  # log of an empty sum, like a masked row
    out = A.sdpa(q, k[..., :0, :], v[..., :0, :])
    (gq,) = torch.autograd.grad(out.sum(), q)
    assert torch.equal(gq, torch.zeros_like(q))


def test_mamba_with_no_tokens_keeps_the_initial_state_and_decodes_on():
    m = module(A.MambaBlock, 8)
    x = rnd(2, 5, 8, grad=False)
    y0, state0 = m(x[:, :0], return_state=True)
    assert y0.shape == (2, 0, 8)
    for s, s_init in zip(state0, m.initial_state(2, dtype=f64)):
        assert torch.equal(s, s_init)
    y_step, _ = m.step(x[:, 0], state0)  # decoding from the empty prefix = decoding from scratch
    torch.testing.assert_close(y_step, m(x[:, :1])[:, 0], atol=1e-12, rtol=0)


def test_sparse_paths_agree_with_dense_on_empty_lengths():
    for lq, lk in ((0, 4), (0, 0)):
        q, k, v = qkv(lq, lk)
        dense = A.sdpa(q, k, v, attn_mask=A.sliding_window_mask(lq, lk, 2, "lower_right"))
        assert torch.equal(A.sliding_window_attention(q, k, v, 2), dense)
    q, k, v = qkv(2, 2)
    out = A.block_sparse_attention(q, k, v, torch.tensor([[False]]), 2)  # nothing kept: an empty sum, 0
    assert torch.equal(out, torch.zeros_like(out))
    (gq,) = torch.autograd.grad(out.sum(), q)  # connected to q, with zero gradients
    assert torch.equal(gq, torch.zeros_like(q))
