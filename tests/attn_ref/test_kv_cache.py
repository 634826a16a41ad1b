"""KV cache: incremental decoding equals the full causal forward; padding, rolling window, memory, errors."""

import pytest
import torch
import torch.nn.functional as F

from attn_ref.decoder import DecoderConfig, TinyDecoder, positions_from_mask
from attn_ref.kv_cache import KVCache, kv_cache_bytes
from attn_ref.masks import sink_window_mask
from attn_ref.multihead import MultiHeadAttention
from attn_ref.rope import Rope, apply_rope

D64 = torch.float64


def _mha(n_kv_heads=2, seed=0):
    torch.manual_seed(seed)
    return MultiHeadAttention(16, 4, n_kv_heads, rope=Rope(4)).to(D64)  # head_dim 4


def _run_chunks(mha, x, chunks, cache):
    outs, start = [], 0
    for n in chunks:
        outs.append(mha(x[:, start : start + n], cache=cache))
        start += n
    return torch.cat(outs, dim=1)


@pytest.mark.parametrize("max_len", [None, 12])
@pytest.mark.parametrize("n_kv_heads", [4, 2, 1])
def test_prefill_then_token_by_token_equals_full_forward(max_len, n_kv_heads):
    mha = _mha(n_kv_heads)
    x = torch.randn(2, 9, 16, dtype=D64)
    cache = KVCache(2, n_kv_heads, 4, max_len=max_len, dtype=D64)
    got = _run_chunks(mha, x, [4, 1, 1, 1, 1, 1], cache)
    torch.testing.assert_close(got, mha(x), atol=1e-10, rtol=0)
    assert len(cache) == cache.seq_len == 9 and cache.positions.tolist() == list(range(9))


def test_chunked_prefill_equals_full_forward():
    mha = _mha()
    x = torch.randn(1, 10, 16, dtype=D64)
    cache = KVCache(1, 2, 4, dtype=D64)
    torch.testing.assert_close(_run_chunks(mha, x, [3, 2, 4, 1], cache), mha(x), atol=1e-10, rtol=0)


def test_decode_without_lower_right_alignment_would_differ():
    """The oracle can fail: a 3-token chunk over 5 keys with upper-left causality (query 0 sees key 0)."""
    mha = _mha()
    x = torch.randn(1, 5, 16, dtype=D64)
    right, left = KVCache(1, 2, 4, dtype=D64), KVCache(1, 2, 4, dtype=D64)
    mha(x[:, :2], cache=right), mha(x[:, :2], cache=left)
    upper_left = torch.ones(3, 5, dtype=torch.bool).tril()  # AND-ed with the module's lower_right mask
    torch.testing.assert_close(mha(x[:, 2:], cache=right), mha(x)[:, 2:], atol=1e-10, rtol=0)
    assert (mha(x[:, 2:], cache=left, attn_mask=upper_left) - mha(x)[:, 2:]).abs().max() > 1e-6


def test_left_padded_batch_equals_unpadded_runs():
    mha = _mha()
    a, b = torch.randn(1, 5, 16, dtype=D64), torch.randn(1, 3, 16, dtype=D64)
    x = torch.cat([a, torch.cat([torch.zeros(1, 2, 16, dtype=D64), b], dim=1)])  # b left-padded by 2
    pad = torch.tensor([[True] * 5, [False, False, True, True, True]])
    pos = (pad.long().cumsum(-1) - 1).clamp(min=0)  # b's tokens at 0, 1, 2
    cache = KVCache(2, 2, 4, dtype=D64)
    out = mha(x, cache=cache, positions=pos, attn_mask=pad[:, None, None, :])
    ca, cb = KVCache(1, 2, 4, dtype=D64), KVCache(1, 2, 4, dtype=D64)
    torch.testing.assert_close(out[0:1], mha(a, cache=ca), atol=1e-10, rtol=0)
    torch.testing.assert_close(out[1:, 2:], mha(b, cache=cb), atol=1e-10, rtol=0)
    assert torch.isfinite(out).all()  # padded rows give 0, not NaN
    # one decode step each
    step = torch.randn(2, 1, 16, dtype=D64)
    pad = torch.cat([pad, torch.ones(2, 1, dtype=torch.bool)], dim=1)
    out = mha(step, cache=cache, positions=pos[:, -1:] + 1, attn_mask=pad[:, None, None, :])
    torch.testing.assert_close(out[0:1], mha(step[0:1], cache=ca), atol=1e-10, rtol=0)
    torch.testing.assert_close(out[1:], mha(step[1:], cache=cb), atol=1e-10, rtol=0)


@pytest.mark.parametrize("chunks", [[1] * 10, [4, 2, 1, 3]])
def test_rolling_cache_equals_sliding_window_attention(chunks):
    window = 3
    mha = _mha()
    x = torch.randn(2, 10, 16, dtype=D64)
    cache = KVCache(2, 2, 4, window=window, dtype=D64)
    got = _run_chunks(mha, x, chunks, cache)
    assert cache.n_stored == window and len(cache) == 10 and cache.positions.tolist() == [7, 8, 9]
    # oracle: torch SDPA over the whole sequence with a brute-force window mask (i - 3 < j <= i)
    with torch.no_grad():

        def split(y, n):
            return y.view(2, 10, n, 4).transpose(1, 2)

        inv = mha.rope.frequencies()[0]
        q = apply_rope(split(mha.q_proj(x), 4), torch.arange(10), inv)
        k = apply_rope(split(mha.k_proj(x), 2), torch.arange(10), inv)
        v = split(mha.v_proj(x), 2)
        allowed = torch.tensor([[i - window < j <= i for j in range(10)] for i in range(10)])
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, enable_gqa=True)
        ref = mha.o_proj(o.transpose(1, 2).reshape(2, 10, 16))
    torch.testing.assert_close(got, ref, atol=1e-10, rtol=0)
    assert (got - mha(x)).abs().max() > 1e-6  # and it is not full attention


def test_bookkeeping_and_reset():
    cache = KVCache(1, 2, 4, max_len=6, dtype=D64)
    k = torch.randn(1, 2, 4, 4, dtype=D64)
    k_all, v_all = cache.update(k, 2 * k)
    assert torch.equal(k_all, k) and torch.equal(v_all, 2 * k) and cache.kind == "static"
    k_all, _ = cache.update(k[:, :, :1], k[:, :, :1])
    assert k_all.shape == (1, 2, 5, 4) and torch.equal(cache.keys[:, :, 4], k[:, :, 0])
    cache.reset()
    assert len(cache) == 0 and cache.keys.shape == (1, 2, 0, 4) and cache.nbytes() == 2 * 2 * 6 * 4 * 8


def test_kv_cache_bytes_published_models():
    assert kv_cache_bytes(32, 32, 128, 1) == 512 * 1024  # Llama-2-7B fp16: 0.5 MiB per token
    assert kv_cache_bytes(32, 8, 128, 1) == 128 * 1024  # Mistral-7B (GQA, 8 KV heads)
    assert kv_cache_bytes(32, 32, 128, 4096, batch=2) == 4 * 1024**3  # 4k tokens x 2 seqs = 4 GiB


def test_nbytes_matches_formula():
    static = KVCache(2, 2, 4, max_len=8, dtype=torch.float16)
    assert static.nbytes() == kv_cache_bytes(1, 2, 4, 8, batch=2, bytes_per_elem=2) == 512
    dyn = KVCache(2, 2, 4, dtype=D64)
    dyn.update(torch.zeros(2, 2, 5, 4, dtype=D64), torch.zeros(2, 2, 5, 4, dtype=D64))
    assert dyn.nbytes() == kv_cache_bytes(1, 2, 4, 5, batch=2, bytes_per_elem=8)


def test_error_cache_shape_mismatch():
    cache = KVCache(2, 2, 4, dtype=D64)
    with pytest.raises(
        ValueError,
        match=r"k must have shape \(batch, n_kv_heads, L, head_dim\) = "
        r"\(2, 2, L, 4\), got shape \(2, 3, 1, 4\)",
    ):
        cache.update(torch.zeros(2, 3, 1, 4, dtype=D64), torch.zeros(2, 3, 1, 4, dtype=D64))


def test_error_cache_dtype_mismatch():
    cache = KVCache(1, 2, 4)  # float32 cache, float64 model
    with pytest.raises(
        TypeError, match=r"k must have the cache dtype torch.float32, got dtype torch.float64"
    ):
        _mha()(torch.randn(1, 2, 16, dtype=D64), cache=cache)


def test_error_static_cache_overflow():
    cache = KVCache(1, 2, 4, max_len=4, dtype=D64)
    cache.update(torch.zeros(1, 2, 3, 4, dtype=D64), torch.zeros(1, 2, 3, 4, dtype=D64))
    with pytest.raises(ValueError, match=r"static cache is full: max_len=4, holds 3 tokens, got 2 more"):
        cache.update(torch.zeros(1, 2, 2, 4, dtype=D64), torch.zeros(1, 2, 2, 4, dtype=D64))
    assert len(cache) == 3  # the failed update changed nothing


def test_error_max_len_and_window_together():
    with pytest.raises(ValueError, match=r"max_len .* or window .*got max_len=8, window=4"):
        KVCache(1, 1, 4, max_len=8, window=4)


# ------------------------------------------------------------------- StreamingLLM: sinks + rolling window
@pytest.mark.parametrize("chunks", [[1] * 11, [5, 1, 1, 4], [2, 9]])
def test_sink_cache_equals_sdpa_with_the_sink_window_mask(chunks):
    window, n_sink = 3, 2
    mha = _mha(seed=3)
    x = torch.randn(2, 11, 16, dtype=D64)
    cache = KVCache(2, 2, 4, window=window, n_sink=n_sink, dtype=D64)
    outs, start = [], 0
    for n in chunks:  # token by token (or chunk by chunk), checking the held positions on the way
        outs.append(mha(x[:, start : start + n], cache=cache))
        start += n
        want = sorted({p for p in range(start) if p < n_sink or p >= start - window})
        assert cache.positions.tolist() == want and cache.n_stored == len(want) <= n_sink + window
        assert cache.keys.shape[2] == len(want)
    # oracle: the whole sequence at once under sink_window_mask (torch SDPA via MultiHeadAttention's mask path)
    ref = mha(x, attn_mask=sink_window_mask(11, 11, window, n_sink))
    torch.testing.assert_close(torch.cat(outs, dim=1), ref, atol=1e-10, rtol=0)
    assert cache.kind == "sink" and cache.key_positions[-1].item() == 10
    rolling = KVCache(2, 2, 4, window=window, dtype=D64)
    assert (_run_chunks(mha, x, chunks, rolling) - ref).abs().max() > 1e-6  # the sinks matter


def test_window_mask_of_a_contiguous_cache_is_the_sliding_window_mask():
    cache = KVCache(1, 1, 2, window=4, dtype=D64)
    cache.update(torch.zeros(1, 1, 6, 2, dtype=D64), torch.zeros(1, 1, 6, 2, dtype=D64))
    cache.update(torch.zeros(1, 1, 2, 2, dtype=D64), torch.zeros(1, 1, 2, 2, dtype=D64))
    from attn_ref.masks import sliding_window_mask

    assert cache.key_positions.tolist() == [2, 3, 4, 5, 6, 7]
    assert torch.equal(cache.window_mask(2), sliding_window_mask(2, 6, 4, "lower_right"))


def test_decoder_with_sink_cache_and_left_padding_equals_full_forward():
    torch.manual_seed(0)
    model = TinyDecoder(DecoderConfig(vocab_size=20, d_model=16, n_layers=2, n_heads=4, n_kv_heads=2, d_ff=24,
                                      max_len=16)).to(D64).eval()
    tokens = torch.tensor([[0, 0, 5, 6, 7, 8, 9, 10, 11], [1, 2, 3, 4, 5, 6, 7, 8, 9]])
    pad = tokens != 0
    pad[1] = True
    pos = positions_from_mask(pad)
    with torch.no_grad():
        caches = model.new_caches(2, window=3, n_sink=3)
        parts = [model(tokens[:, :4], caches=caches, positions=pos[:, :4], attn_mask=pad[:, :4])]
        for t in range(4, 9):
            parts.append(model(tokens[:, t : t + 1], caches=caches, positions=pos[:, t : t + 1],
                               attn_mask=pad[:, : t + 1]))
        mask = sink_window_mask(9, 9, 3, 3)[None, None] & pad[:, None, None, :]
        full = model(tokens, positions=pos, attn_mask=mask)
    real = pad[:, :, None]  # a fully masked (pad) query row gives 0 attention in both; compare real rows
    torch.testing.assert_close(torch.cat(parts, 1) * real, full * real, atol=1e-10, rtol=0)


def test_error_sink_without_window():
    with pytest.raises(ValueError, match=r"n_sink needs a rolling cache: give window as well, got n_sink=4"):
        KVCache(1, 1, 4, n_sink=4)
    with pytest.raises(ValueError, match=r"n_sink must be an int >= 0, got -1"):
        KVCache(1, 1, 4, window=2, n_sink=-1)
    with pytest.raises(ValueError, match=r"window_mask needs a rolling cache"):
        KVCache(1, 1, 4).window_mask(1)
