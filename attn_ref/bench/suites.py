"""The benchmark suites behind the performance slides (L04.2, L05.6, L06.6, L07.5, L08.4/6, L09.4, L10.4).

Each suite returns a list of records (plain dicts). Sizes come from a ``profile``: ``"cpu"`` (what
2 CPU cores finish in minutes), ``"gpu"`` (FlashAttention's shapes on one H100/H200) or ``"smoke"``
(seconds; used by the tests).
"""
from __future__ import annotations

# ruff: noqa: B023  (the closures below are called at once, inside the loop that binds them)
import math
from collections.abc import Callable
from contextlib import nullcontext

import torch
import torch.nn.functional as F

from ..core import sdpa
from ..flash import flash_attention
from ..kv_cache import kv_cache_bytes
from ..linear import linear_attention
from ..mla import DEEPSEEK_V2, mla_cache_elems_per_token
from ..multihead import attention_flops
from ..sparse import sliding_window_attention
from ..ssm import selective_scan
from .harness import peak_memory, time_fn

PROFILES = {
    "smoke": dict(variant_lens=[32], variant_width=64, splitk_lens=[256], splits=[1, 4],
                  prefill_lens=[64, 128], prefill_dims=[16], tokens=256, model_width=64, repeats=2,
                  decode_lens=[64, 128], decode_batch=1, decode_heads=4, decode_dim=16,
                  long_lens=[128, 256], window=32, mem_lens=[256, 1024], gen_tokens=8, linear_lens=[64, 128],
                  heads_width=32, heads_counts=[1, 2, 4], heads_lens=[16], heads_batch=1),
    "cpu": dict(variant_lens=[256, 1024], variant_width=256, splitk_lens=[4096, 16384], splits=[1, 4, 16],
                prefill_lens=[256, 512, 1024, 2048], prefill_dims=[64], tokens=4096, model_width=512,
                repeats=3, decode_lens=[512, 2048, 8192], decode_batch=1, decode_heads=32, decode_dim=128,
                long_lens=[1024, 2048, 4096, 8192], window=256, mem_lens=[512, 1024, 2048, 4096],
                gen_tokens=32, linear_lens=[256, 512, 1024, 2048, 4096],
                heads_width=512, heads_counts=[1, 2, 4, 8, 16, 32, 64], heads_lens=[128, 512], heads_batch=4),
    "gpu": dict(variant_lens=[1024, 4096], variant_width=1024, splitk_lens=[16384, 65536, 262144],
                splits=[1, 8, 32, 128], prefill_lens=[512, 1024, 2048, 4096, 8192, 16384], prefill_dims=[64, 128],
                tokens=16384,
                model_width=2048, repeats=20, decode_lens=[1024, 4096, 16384, 65536], decode_batch=8,
                decode_heads=32, decode_dim=128, long_lens=[4096, 8192, 16384, 32768], window=4096,
                mem_lens=[1024, 2048, 4096, 8192, 16384], gen_tokens=64,
                linear_lens=[1024, 2048, 4096, 8192, 16384],
                heads_width=2048, heads_counts=[1, 4, 16, 32, 64, 128], heads_lens=[1024, 4096], heads_batch=8),
}


def _randn(shape, dtype, device, seed=0):
    """Seeded normal data made on the device itself (a CPU copy of GPU-sized caches takes minutes)."""
    g = torch.Generator(device=device).manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=torch.float32, device=device).to(dtype)


def naive_attention(q, k, v, causal=False):
    """The materialised baseline: S = Q Kᵀ/√d, P = softmax(S), O = P V, three separate kernels."""
    s = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    if causal:
        n_q, n_k = s.shape[-2:]
        keep = torch.ones(n_q, n_k, dtype=torch.bool, device=q.device).tril()
        s = s.masked_fill(~keep, float("-inf"))
    return torch.softmax(s, dim=-1) @ v


def _torch_backends():
    """torch SDPA backends that exist in this torch build, as (name, context factory)."""
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
    except ImportError:  # pragma: no cover - very old torch
        return [("default", nullcontext)]
    out = []
    for name in ("MATH", "EFFICIENT_ATTENTION", "FLASH_ATTENTION", "CUDNN_ATTENTION"):
        if hasattr(SDPBackend, name):
            out.append((name.lower(), lambda b=getattr(SDPBackend, name): sdpa_kernel([b])))  # noqa: B008 (binds each backend now)
    return out


def _record(suite, method, dtype, shape, meas=None, **extra):
    rec = {"suite": suite, "method": method, "dtype": str(dtype).replace("torch.", ""), **shape}
    if meas is not None:
        rec.update(time_ms=meas.median_ms, time_min_ms=meas.min_ms, time_max_ms=meas.max_ms,
                   repeats=meas.repeats)
    rec.update(extra)
    return rec


def _try(fn: Callable[[], object]):
    """Run fn; an out-of-memory or unsupported-backend error becomes a recorded skip, not a crash."""
    try:
        return fn(), None
    except RuntimeError as e:  # includes torch.cuda.OutOfMemoryError and 'no kernel for this backend'
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        return None, f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"


def prefill_suite(device, dtype, profile, progress=None):
    """Forward attention in FlashAttention's shapes: batch·seqlen = ``tokens``, heads·head_dim = width."""
    p = PROFILES[profile]
    recs = []
    methods: list[tuple[str, Callable]] = [
        ("naive", lambda q, k, v, c: naive_attention(q, k, v, c)),
        ("attn_ref.sdpa", lambda q, k, v, c: sdpa(q, k, v, is_causal=c)),
    ]
    for name, ctx in _torch_backends():
        methods.append((f"torch_sdpa[{name}]",
                        lambda q, k, v, c, ctx=ctx: _with(
                            ctx, lambda: F.scaled_dot_product_attention(q, k, v, is_causal=c))))
    if torch.device(device).type == "cuda":
        from ..kernels import triton_available, triton_flash_attention
        if triton_available():
            methods.append(("triton_fa2", lambda q, k, v, c: triton_flash_attention(q, k, v, causal=c)))
    for d in p["prefill_dims"]:
        heads = p["model_width"] // d
        for n in p["prefill_lens"]:
            batch = max(1, p["tokens"] // n)
            q, k, v = (_randn((batch, heads, n, d), dtype, device, seed=s) for s in range(3))
            for causal in (False, True):
                shape = dict(batch=batch, heads=heads, seqlen=n, head_dim=d, causal=causal)
                flops = attention_flops(batch, heads, n, n, d, causal=causal)
                for method, fn in methods:
                    if progress:
                        progress(f"prefill d={d} n={n} causal={causal} {method}")
                    meas, err = _try(lambda: time_fn(lambda: fn(q, k, v, causal), device,
                                                     warmup=2, repeats=p["repeats"]))
                    if err:
                        recs.append(_record("prefill", method, dtype, shape, skipped=err))
                        continue
                    recs.append(_record("prefill", method, dtype, shape, meas, flops=flops,
                                        tflops=flops / (meas.median_ms * 1e-3) / 1e12))
    return recs


def _with(ctx, fn):
    with ctx():
        return fn()


def memory_suite(device, dtype, profile, progress=None):
    """Peak extra memory of one forward: materialised (S and P are n×n) against tiled (O(n) extra)."""
    p = PROFILES[profile]
    recs = []
    heads, d = 8, 64
    for n in p["mem_lens"]:
        q, k, v = (_randn((1, heads, n, d), dtype, device, seed=s) for s in range(3))
        shape = dict(batch=1, heads=heads, seqlen=n, head_dim=d, causal=False)
        cases = [("naive", lambda: naive_attention(q, k, v)),
                 ("attn_ref.flash_attention", lambda: flash_attention(q, k, v, block_q=128, block_k=128))]
        if torch.device(device).type == "cuda":
            cases.append(("torch_sdpa", lambda: F.scaled_dot_product_attention(q, k, v)))
        for method, fn in cases:
            if progress:
                progress(f"memory n={n} {method}")
            mem, err = _try(lambda: peak_memory(fn, device))
            if err:
                recs.append(_record("memory", method, dtype, shape, skipped=err))
                continue
            recs.append(_record("memory", method, dtype, shape, peak_extra_bytes=mem["peak_extra_bytes"],
                                memory_source=mem["source"],
                                score_matrix_bytes=heads * n * n * torch.tensor([], dtype=dtype).element_size()))
    return recs


def mla_absorbed_decode(q, latent, d_v):
    """One absorbed-MLA decode step as two batched matmuls over the latent cache (DeepSeek-V2,
    arXiv:2405.04434): s = q_abs · [c; k_R]ᵀ/√d, o = softmax(s) · c. q (B, H, 1, d_c + d_R),
    latent (B, 1, L, d_c + d_R); the first d_v = d_c columns of the latent are the values.
    (torch SDPA has no fused kernel for 576-wide heads and falls back to its slow math path.)"""
    lat = latent[:, 0]
    s = (q[:, :, 0] @ lat.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    p = torch.softmax(s.to(torch.promote_types(s.dtype, torch.float32)), dim=-1).to(lat.dtype)
    return (p @ lat[..., :d_v]).unsqueeze(2)


def decode_suite(device, dtype, profile, progress=None):
    """One decode step of attention over a KV cache: MHA, GQA-8, MQA and MLA (absorbed: MQA over the
    512 + 64 latent), with bytes of cache read per step, GB/s and the share of peak bandwidth."""
    from .provenance import device_peaks

    p = PROFILES[profile]
    recs = []
    b, h, d = p["decode_batch"], p["decode_heads"], p["decode_dim"]
    elem = torch.tensor([], dtype=dtype).element_size()
    peak = None
    if torch.device(device).type == "cuda":
        peak = (device_peaks(torch.cuda.get_device_properties(device).name) or {}).get("bandwidth_gbs")
    d_c, d_r = DEEPSEEK_V2.kv_lora_rank, DEEPSEEK_V2.rope_head_dim
    variants = [("MHA", h, d, d), ("GQA-8", max(1, h // 4), d, d), ("MQA", 1, d, d), ("MLA", 1, d_c + d_r, d_c)]
    for n in p["decode_lens"]:
        for name, kv_heads, dk, dv in variants:
            q = _randn((b, h, 1, dk), dtype, device, 0)
            k = _randn((b, kv_heads, n, dk), dtype, device, 1)
            v = k[..., :dv] if name == "MLA" else _randn((b, kv_heads, n, dv), dtype, device, 2)
            cache_bytes = b * kv_heads * n * (dk if name == "MLA" else dk + dv) * elem
            shape = dict(batch=b, heads=h, kv_heads=kv_heads, context=n, head_dim=dk, v_dim=dv)
            if name == "MLA":  # absorbed MLA decode: every head scores the one shared latent (MQA, 576/512)
                fn = (lambda q=q, k=k, dv=dv: mla_absorbed_decode(q, k, dv))  # noqa: E731
            elif torch.device(device).type == "cuda":
                fn = (lambda q=q, k=k, v=v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True))  # noqa: E731
            else:
                fn = (lambda q=q, k=k, v=v: sdpa(q, k, v, enable_gqa=True))  # noqa: E731
            if progress:
                progress(f"decode n={n} {name}")
            meas, err = _try(lambda: time_fn(fn, device, warmup=2, repeats=p["repeats"]))
            if err:
                recs.append(_record("decode", name, dtype, shape, skipped=err))
                continue
            gbs = cache_bytes / (meas.median_ms * 1e-3) / 1e9
            recs.append(_record("decode", name, dtype, shape, meas, cache_bytes_read=cache_bytes,
                                cache_bytes_per_token=cache_bytes // (b * n), tokens_per_s=b / (meas.median_ms * 1e-3),
                                gb_per_s=gbs, share_of_peak_bw=(gbs / peak) if peak else None))
    recs.extend(generation_records(device, profile, progress))
    recs.append(_record("decode", "cache_sizes", dtype, {},
                        llama2_7b_kib_per_token=kv_cache_bytes(32, 32, 128, 1) / 1024,
                        mistral_7b_kib_per_token=kv_cache_bytes(32, 8, 128, 1) / 1024,
                        deepseek_v2_mla_elems_per_token_per_layer=mla_cache_elems_per_token(DEEPSEEK_V2)))
    return recs


def generation_records(device, profile, progress=None):
    """Tokens/s of ``generate`` on a small decoder with the KV cache against recomputing the prefix."""
    from ..decoder import DecoderConfig, TinyDecoder, generate

    p = PROFILES[profile]
    cfg = DecoderConfig(vocab_size=256, d_model=128, n_layers=4, n_heads=8, n_kv_heads=8, d_ff=512,
                        max_len=64 + p["gen_tokens"] + 8)
    model = TinyDecoder(cfg).to(device).eval()
    prompt = torch.randint(0, 256, (1, 64), generator=torch.Generator().manual_seed(0)).to(device)
    recs = []
    for use_cache in (True, False):
        if progress:
            progress(f"generate use_cache={use_cache}")
        with torch.no_grad():
            meas = time_fn(lambda: generate(model, prompt, p["gen_tokens"], use_cache=use_cache, temperature=0.0),
                           device, warmup=1, repeats=max(2, p["repeats"] // 2), flush_l2=False)
        recs.append(_record("generation", "kv_cache" if use_cache else "recompute", torch.float32,
                            dict(prompt=64, new_tokens=p["gen_tokens"], d_model=128, n_layers=4), meas,
                            tokens_per_s=p["gen_tokens"] / (meas.median_ms * 1e-3)))
    return recs


def sliding_suite(device, dtype, profile, progress=None):
    """Sliding-window (banded, O(L·W)) against full causal attention as the length grows."""
    p = PROFILES[profile]
    recs = []
    heads, d, w = 8, 64, p["window"]
    for n in p["long_lens"]:
        q, k, v = (_randn((1, heads, n, d), dtype, device, seed=s) for s in range(3))
        shape = dict(batch=1, heads=heads, seqlen=n, head_dim=d, window=w)
        cases = [("attn_ref.sliding_window_attention", lambda: sliding_window_attention(q, k, v, w)),
                 ("full_causal[attn_ref.sdpa]", lambda: sdpa(q, k, v, is_causal=True))]
        if torch.device(device).type == "cuda":
            cases.append(("full_causal[torch_sdpa]", lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True)))
        for method, fn in cases:
            if progress:
                progress(f"sliding n={n} {method}")
            meas, err = _try(lambda: time_fn(fn, device, warmup=1, repeats=max(2, p["repeats"] // 2)))
            mem, err2 = _try(lambda: peak_memory(fn, device))
            if err or err2:
                recs.append(_record("sliding", method, dtype, shape, skipped=err or err2))
                continue
            recs.append(_record("sliding", method, dtype, shape, meas, peak_extra_bytes=mem["peak_extra_bytes"]))
    return recs


def linear_suite(device, dtype, profile, progress=None):
    """Causal linear attention (chunked), the selective scan and softmax attention as length grows."""
    p = PROFILES[profile]
    recs = []
    heads, d, n_state = 8, 64, 16
    for n in p["linear_lens"]:
        q, k, v = (_randn((1, heads, n, d), dtype, device, seed=s) for s in range(3))
        u = _randn((1, heads * d, n), torch.float32, device, 3)
        delta = _randn((1, heads * d, n), torch.float32, device, 4)
        A = -torch.arange(1, n_state + 1, dtype=torch.float32, device=device).repeat(heads * d, 1)
        Bm, Cm = _randn((1, n_state, n), torch.float32, device, 5), _randn((1, n_state, n), torch.float32, device, 6)
        shape = dict(batch=1, heads=heads, seqlen=n, head_dim=d)
        soft = ((lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True))
                if torch.device(device).type == "cuda" else (lambda: sdpa(q, k, v, is_causal=True)))
        cases = [("softmax_attention", soft),
                 ("linear_attention[chunked]", lambda: linear_attention(q, k, v, form="chunked", chunk=64)),
                 ("selective_scan[parallel]", lambda: selective_scan(u, delta, A, Bm, Cm, delta_softplus=True,
                                                                     method="parallel"))]
        for method, fn in cases:
            if progress:
                progress(f"linear n={n} {method}")
            meas, err = _try(lambda: time_fn(fn, device, warmup=1, repeats=max(2, p["repeats"] // 2)))
            if err:
                recs.append(_record("linear", method, dtype, shape, skipped=err))
                continue
            recs.append(_record("linear", method, dtype, shape, meas))
    return recs


def variants_suite(device, dtype, profile, progress=None):
    """Standard, differential and MoE attention layers at (about) the same parameter count:
    forward and forward+backward time. Parameter counts are recorded, not assumed."""
    from ..differential import DifferentialAttention
    from ..moe import MixtureOfAttentionHeads, SwitchHeadAttention
    from ..multihead import MultiHeadAttention

    p = PROFILES[profile]
    d = p["variant_width"]
    heads = max(2, d // 64)
    torch.manual_seed(0)
    layers = {
        "standard (MHA)": lambda: MultiHeadAttention(d, heads, causal=True),
        "differential": lambda: DifferentialAttention(d, heads // 2, depth=1),
        "MoA (8 experts, top-2)": lambda: MixtureOfAttentionHeads(d, 8, 2, head_dim=(2 * d) // 9),
        "SwitchHead (4 experts, top-2)": lambda: SwitchHeadAttention(d, 2, 4, 2, head_dim=d // 5),
    }
    recs = []
    for name, make in layers.items():
        layer = make().to(device=device, dtype=dtype)
        n_params = sum(t.numel() for t in layer.parameters())
        for n in p["variant_lens"]:
            x = _randn((1 if profile != "gpu" else 8, n, d), dtype, device, 0).requires_grad_(True)
            shape = dict(batch=x.shape[0], seqlen=n, d_model=d, params=n_params)

            def fwd():
                with torch.no_grad():
                    return layer(x)

            def fwd_bwd():
                layer.zero_grad(set_to_none=True)
                out = layer(x)
                out = out[0] if isinstance(out, tuple) else out
                out.float().sum().backward()

            for mode, fn in (("forward", fwd), ("forward+backward", fwd_bwd)):
                if progress:
                    progress(f"variants {name} n={n} {mode}")
                meas, err = _try(lambda: time_fn(fn, device, warmup=1, repeats=max(2, p["repeats"] // 2)))
                rec = _record("variants", name, dtype, dict(shape, mode=mode), meas, skipped=err) if err else \
                    _record("variants", name, dtype, dict(shape, mode=mode), meas)
                recs.append(rec)
    return recs


def splitk_suite(device, dtype, profile, progress=None):
    """Decode at long context: split-K ``flash_decoding`` (LSE merge) against one pass over the keys.
    In this pure-PyTorch reference the splits run one after another; on a GPU kernel they would run
    in parallel, which is where Flash-Decoding's speed-up comes from (the merge cost is what we see)."""
    from ..flash import flash_decoding

    p = PROFILES[profile]
    h, d = 32, 128
    recs = []
    for n in p["splitk_lens"]:
        q = _randn((1, h, 1, d), dtype, device, 0)
        k, v = _randn((1, h, n, d), dtype, device, 1), _randn((1, h, n, d), dtype, device, 2)
        shape = dict(batch=1, heads=h, context=n, head_dim=d)
        cases = [(f"flash_decoding[{s} splits]", lambda s=s: flash_decoding(q, k, v, n_splits=s)) for s in p["splits"]]
        cases.append(("attn_ref.sdpa (one pass)", lambda: sdpa(q, k, v)))
        if torch.device(device).type == "cuda":
            cases.append(("torch_sdpa (one pass)", lambda: F.scaled_dot_product_attention(q, k, v)))
        for method, fn in cases:
            if progress:
                progress(f"splitk n={n} {method}")
            meas, err = _try(lambda: time_fn(fn, device, warmup=1, repeats=max(2, p["repeats"] // 2)))
            recs.append(_record("splitk", method, dtype, shape, skipped=err) if err else
                        _record("splitk", method, dtype, shape, meas, tokens_per_s=1 / (meas.median_ms * 1e-3)))
    return recs


def per_head_loop(attend, q, k, v):
    """Attention one head at a time, as a Python loop: the same arithmetic as one ``attend`` call over the
    head axis, issued as H separate calls and concatenated back along it."""
    return torch.cat([attend(q[:, h:h + 1], k[:, h:h + 1], v[:, h:h + 1]) for h in range(q.shape[1])], dim=1)


HEAD_IMPLS = (("torch_sdpa", F.scaled_dot_product_attention), ("attn_ref.sdpa", sdpa))
"""The two attention functions the heads suite issues both ways: torch's fused kernel (scores never
materialised) and the reference, which materialises the (B, H, n, n) score tensor."""


def heads_suite(device, dtype, profile, progress=None):
    """Heads as a batch axis (L02.7): one call over (B, H, n, d_h) against a loop of H calls over
    (B, 1, n, d_h), at a fixed model width H·d_h, so both do the same FLOPs (``attention_flops``) for
    every H; only how the work is issued differs. Methods ``batched[impl]`` and ``head_loop[impl]``."""
    p = PROFILES[profile]
    width, batch = p["heads_width"], p["heads_batch"]
    recs = []
    for n in p["heads_lens"]:
        for h in p["heads_counts"]:
            d = width // h
            q, k, v = (_randn((batch, h, n, d), dtype, device, seed=s) for s in range(3))
            shape = dict(batch=batch, heads=h, seqlen=n, head_dim=d, width=width)
            flops = attention_flops(batch, h, n, n, d)
            for impl, attend in HEAD_IMPLS:
                for way, fn in (("batched", lambda: attend(q, k, v)),
                                ("head_loop", lambda: per_head_loop(attend, q, k, v))):
                    method = f"{way}[{impl}]"
                    if progress:
                        progress(f"heads n={n} H={h} {method}")
                    meas, err = _try(lambda: time_fn(fn, device, warmup=2, repeats=p["repeats"] * 2 + 1))
                    recs.append(_record("heads", method, dtype, shape, skipped=err) if err else
                                _record("heads", method, dtype, shape, meas, flops=flops))
    return recs


SUITES = {"prefill": prefill_suite, "memory": memory_suite, "decode": decode_suite,
          "sliding": sliding_suite, "linear": linear_suite, "variants": variants_suite, "splitk": splitk_suite,
          "heads": heads_suite}
