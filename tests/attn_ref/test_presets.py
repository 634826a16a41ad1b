"""attn_ref.presets: each published shape's KV bytes per token and parameter count against the published figure."""
import pytest

import attn_ref as ar

KIB = 1024

# KV cache per token in 16-bit (reference/performance.md §4, computed from the configs; DeepSeek-V2: 60 layers ×
# (d_c 512 + d_h^R 64) = 576 elements, arXiv:2405.04434 Table 1; GPT-2 small: 2·12·768 elements).
PUBLISHED_KV_KIB = {
    "llama-2-7b": 512,
    "llama-2-70b": 320,
    "mistral-7b": 128,
    "llama-3-8b": 128,
    "deepseek-67b": 380,
    "deepseek-v2": 67.5,
    "gpt2-small": 36,
}

# Parameter counts: the sum of the released checkpoints' tensor sizes (HF model cards / safetensors index).
EXACT_PARAMS = {
    "gpt2-small": 124_439_808,  # "124M" (the GPT-2 paper's Table 2 says 117M for the same shape)
    "llama-2-7b": 6_738_415_616,
    "llama-2-70b": 68_976_648_192,
    "llama-3-8b": 8_030_261_248,
    "mistral-7b": 7_241_732_096,
}
# Rounded figures from the papers: Transformer base "65 ×10^6" (arXiv:1706.03762 Table 3; its vocabulary is
# "about 37000" tokens, so only ~5% agreement is possible), DeepSeek LLM "67B" (arXiv:2401.02954).
ROUNDED_PARAMS = {"transformer-base": (65e6, 0.05), "deepseek-67b": (67e9, 0.01)}


@pytest.mark.parametrize("name", sorted(PUBLISHED_KV_KIB))
def test_kv_bytes_per_token_published(name):
    assert ar.PRESETS[name].kv_bytes_per_token() == PUBLISHED_KV_KIB[name] * KIB


def test_kv_bytes_follow_the_existing_helpers():
    m = ar.LLAMA2_70B
    assert m.kv_bytes_per_token(4) == ar.kv_cache_bytes(80, 8, 128, 1, 1, 4) == 640 * KIB
    assert ar.DEEPSEEK_V2_MODEL.mla is ar.DEEPSEEK_V2
    assert ar.DEEPSEEK_V2_MODEL.kv_elems_per_token() == 60 * ar.mla_cache_elems_per_token(ar.DEEPSEEK_V2) == 34_560
    # MLA vs DeepSeek 67B (GQA-8) in bf16: −82.2%; the paper's −93.3% needs ~6-bit KV (performance.md §4)
    ratio = ar.DEEPSEEK_V2_MODEL.kv_bytes_per_token() / ar.DEEPSEEK_67B.kv_bytes_per_token()
    assert 1 - ratio == pytest.approx(0.8224, abs=1e-4)
    assert 1 - ratio * 6 / 16 == pytest.approx(0.9334, abs=1e-4)


def test_cache_sizes_at_context_and_rolling_buffer():
    assert ar.LLAMA2_7B.kv_cache_bytes(4096) == 2 * 2**30  # 2 GiB at 4K
    assert ar.LLAMA2_7B.kv_cache_bytes(128 * 1024) == 64 * 2**30  # 64 GiB at 128K (L04.2)
    full = ar.MISTRAL_7B.kv_cache_bytes(32 * 1024)
    rolling = ar.MISTRAL_7B.kv_cache_bytes(32 * 1024, rolling_buffer=True)
    assert full == 4 * 2**30 and rolling == 2**29 and full // rolling == 8  # "reduces … by 8x" at 32K


@pytest.mark.parametrize("name", sorted(EXACT_PARAMS))
def test_parameter_counts_exact(name):
    assert ar.PRESETS[name].n_params() == EXACT_PARAMS[name]


@pytest.mark.parametrize("name", sorted(ROUNDED_PARAMS))
def test_parameter_counts_rounded(name):
    published, rel = ROUNDED_PARAMS[name]
    assert ar.PRESETS[name].n_params() == pytest.approx(published, rel=rel)


def test_gpt2_small_count_by_hand():
    # tied wte 50257·768, wpe 1024·768, 12 × (2 LN + c_attn + c_proj + c_fc + c_proj), final LN
    layer = 2 * 1536 + (768 * 2304 + 2304) + (768 * 768 + 768) + (768 * 3072 + 3072) + (3072 * 768 + 768)
    assert ar.GPT2_SMALL.n_params() == 50257 * 768 + 1024 * 768 + 12 * layer + 1536
    untied = ar.ModelConfig(**{**ar.GPT2_SMALL.__dict__, "tied_embeddings": False})
    assert untied.n_params() - ar.GPT2_SMALL.n_params() == 50257 * 768


def test_shapes_as_published():
    assert (ar.GPT2_SMALL.n_layers, ar.GPT2_SMALL.n_heads, ar.GPT2_SMALL.d_model, ar.GPT2_SMALL.context) == (
        12, 12, 768, 1024)
    assert (ar.TRANSFORMER_BASE.n_layers, ar.TRANSFORMER_BASE.n_heads, ar.TRANSFORMER_BASE.d_ff) == (6, 8, 2048)
    assert ar.LLAMA3_8B.rope_base == 500000.0 and ar.LLAMA3_8B.vocab == 128256 and ar.LLAMA3_8B.n_kv_heads == 8
    assert ar.MISTRAL_7B.window == 4096 and ar.LLAMA2_7B.n_kv_heads == ar.LLAMA2_7B.n_heads == 32
    assert (ar.DEEPSEEK_67B.n_layers, ar.DEEPSEEK_67B.n_heads, ar.DEEPSEEK_67B.n_kv_heads) == (95, 64, 8)
    for m in ar.PRESETS.values():
        assert m.mla is not None or m.n_heads * m.head_dim == m.d_model
        assert "arXiv:" in m.source or "config.json" in m.source
    # DeepSeek-V2's YaRN: cos/sin factor 1 (mscale = mscale_all_dim), softmax scale × 1.5896 (E9.8)
    _, factor = ar.rope_frequencies(64, 10000.0, ar.DEEPSEEK_V2_MODEL.rope_scaling)
    assert factor == 1.0 and ar.yarn_get_mscale(40.0, 0.707) ** 2 == pytest.approx(1.5896, abs=1e-4)


def test_layer_flops_and_crossover_methods():
    f = ar.MISTRAL_7B.layer_flops(10)
    assert f == ar.layer_flops(10, 4096, 32, 8, 128, 14336, "swiglu")
    assert f["k"] == f["q"] // 4  # GQA-8 of 32 heads
    assert ar.GPT2_SMALL.attention_mlp_crossover() == pytest.approx(2 * (4 * 768**2 + 2 * 768 * 3072) / (4 * 768))


def test_errors():
    with pytest.raises(ValueError, match=r"DeepSeek-V2: parameter count not modelled"):
        ar.DEEPSEEK_V2_MODEL.n_params()
    with pytest.raises(ValueError, match=r"n_heads \(32\) must be divisible by n_kv_heads \(5\)"):
        ar.ModelConfig(**{**ar.LLAMA2_7B.__dict__, "n_kv_heads": 5})
    with pytest.raises(ValueError, match=r"norm must be one of"):
        ar.ModelConfig(**{**ar.LLAMA2_7B.__dict__, "norm": "batchnorm"})
    with pytest.raises(ValueError, match=r"bytes_per_elem must be > 0"):
        ar.LLAMA2_7B.kv_bytes_per_token(0)
