"""Bad input to attn_ref is refused with an error that names the argument, never a silent wrong result (issue 20).

Each case here returned a wrong answer, accepted nonsense or failed deep inside torch before the fix.
"""
import pytest
import torch
import torch.nn.functional as F

import attn_ref as A

f64 = torch.float64


def rnd(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=f64)


@pytest.fixture(scope="module")
def model():
    return A.TinyDecoder(A.DecoderConfig())  # vocab_size 64


# -- item 4: RoPE on an integer tensor returned zeros ------------------------------------------------------

@pytest.mark.parametrize("dtype", [torch.long, torch.int32, torch.bool])
def test_rope_refuses_non_floating_input(dtype):
    x = torch.ones(1, 1, 3, 4, dtype=dtype)
    with pytest.raises(TypeError, match=rf"x must be a floating-point tensor, got dtype {dtype}"):
        A.Rope(4)(x, torch.arange(3))
    with pytest.raises(TypeError, match=r"x must be a floating-point tensor"):
        A.apply_rope(x, torch.arange(3), A.rope_frequencies(4)[0])


def test_rope_documents_floating_input():
    assert "floating" in A.Rope.__doc__ and "floating" in A.apply_rope.__doc__


def test_rope_refuses_bool_positions():
    with pytest.raises(TypeError, match=r"positions must be an integer tensor, got dtype torch.bool"):
        A.Rope(4)(rnd(1, 1, 2, 4), torch.tensor([True, False]))


# -- item 5: generate truncated float prompts, took bools, and failed with IndexError out of vocabulary ------

@pytest.mark.parametrize("prompt,dtype", [(torch.tensor([[1.7, 2.0]]), "torch.float32"),
                                          (torch.tensor([[True, False]]), "torch.bool"),
                                          (torch.tensor([[1.0, 2.0]], dtype=f64), "torch.float64")])
def test_generate_refuses_non_integer_prompt_tensors(model, prompt, dtype):
    with pytest.raises(TypeError, match=rf"prompt must hold integer token ids, got dtype {dtype}"):
        A.generate(model, prompt, 2)


@pytest.mark.parametrize("bad", [1.7, True, "3", None])
def test_generate_refuses_non_int_ids_in_lists(model, bad):
    with pytest.raises(TypeError, match=r"prompt token ids must be ints, got"):
        A.generate(model, [[1, bad]], 2)


@pytest.mark.parametrize("prompt,bad", [(torch.tensor([[1, 64]]), 64), (torch.tensor([[-1, 2]]), -1),
                                        ([[1, 99]], 99), ([[-5]], -5)])
def test_generate_names_the_vocabulary_range(model, prompt, bad):
    with pytest.raises(ValueError, match=rf"prompt token ids must be in \[0, vocab_size\) = \[0, 64\), got {bad}"):
        A.generate(model, prompt, 2)


def test_generate_checks_pad_id_when_it_pads(model):
    with pytest.raises(ValueError, match=r"pad_id must be an int in \[0, vocab_size\) = \[0, 64\), got 100"):
        A.generate(model, [[1], [1, 2]], 1, pad_id=100)
    assert A.generate(model, [[1, 2]], 1, pad_id=100, temperature=0).shape == (1, 3)  # no padding: unused


def test_generate_refuses_an_empty_prompt_and_a_string(model):
    with pytest.raises(ValueError, match=r"prompt must hold at least one token per row, got shape \(1, 0\)"):
        A.generate(model, torch.zeros(1, 0, dtype=torch.long), 2)
    with pytest.raises(TypeError, match=r"prompt must be a \(B, L\) tensor or a list of token lists, got str"):
        A.generate(model, "hello", 2)


def test_decoder_forward_checks_token_ids(model):
    with pytest.raises(ValueError, match=r"tokens token ids must be in \[0, vocab_size\) = \[0, 64\), got 64"):
        model(torch.tensor([[64]]))
    with pytest.raises(TypeError, match=r"tokens must hold integer token ids, got dtype torch.float32"):
        model(torch.tensor([[1.0]]))


def test_valid_prompts_are_unchanged(model):
    """Integer prompts (tensor of any int dtype, or lists) give the same tokens as before: int32 == int64."""
    a = A.generate(model, torch.tensor([[3, 5, 7]]), 4, seed=1)
    b = A.generate(model, torch.tensor([[3, 5, 7]], dtype=torch.int32), 4, seed=1)
    c = A.generate(model, [[3, 5, 7]], 4, seed=1)
    assert torch.equal(a, b) and torch.equal(a, c)


# -- item 7: scale=nan gave all-NaN; every logit -inf gave NaN; positions ignored; MLACache mixed dtypes ----

SCALED = {
    "sdpa": lambda q, s: A.sdpa(q, q, q, scale=s),
    "attention_scores": lambda q, s: A.attention_scores(q, q, scale=s),
    "attention_lse": lambda q, s: A.attention_lse(q, q, scale=s),
    "flash_attention": lambda q, s: A.flash_attention(q, q, q, scale=s),
    "flash_attention_autograd": lambda q, s: A.flash_attention_autograd(q, q, q, scale=s),
    "flash_decoding": lambda q, s: A.flash_decoding(q, q, q, 1, scale=s),
    "sliding_window_attention": lambda q, s: A.sliding_window_attention(q, q, q, 2, scale=s),
    "block_sparse_attention": lambda q, s: A.block_sparse_attention(q, q, q, torch.ones(3, 3, dtype=torch.bool), 1,
                                                                    scale=s),
}


@pytest.mark.parametrize("fn", SCALED)
@pytest.mark.parametrize("scale", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_scale_is_refused(fn, scale):
    with pytest.raises(ValueError, match=rf"scale must be finite, got {scale}"):
        SCALED[fn](rnd(1, 2, 3, 4), scale)


@pytest.mark.parametrize("fn", SCALED)
def test_bool_or_tensor_scale_is_refused(fn):
    for bad in (True, torch.tensor(0.5)):
        with pytest.raises(TypeError, match=r"scale must be a number or None"):
            SCALED[fn](rnd(1, 2, 3, 4), bad)


@pytest.mark.parametrize("scale", [0.0, -0.7, 3])
def test_finite_scales_including_zero_and_negative_match_torch(scale):
    """The choice: any finite scale is accepted (0 averages the values, a negative one reverses the ranking)."""
    q, k, v = rnd(1, 2, 3, 4), rnd(1, 2, 5, 4, seed=1), rnd(1, 2, 5, 3, seed=2)
    torch.testing.assert_close(A.sdpa(q, k, v, scale=scale), F.scaled_dot_product_attention(q, k, v, scale=scale),
                               atol=1e-12, rtol=0)


def test_sampling_distribution_refuses_rows_with_no_possible_token():
    logits = torch.tensor([[0.0, 1.0], [float("-inf"), float("-inf")]])
    for temperature in (1.0, 0.0):  # greedy would otherwise return one-hot on token 0
        with pytest.raises(ValueError, match=r"logits: every entry of a row is -inf"):
            A.sampling_distribution(logits, temperature)
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"logits must not contain NaN or \+inf"):
            A.sampling_distribution(torch.tensor([0.0, bad]))
    with pytest.raises(ValueError, match=r"top_p must be in \(0, 1\], got 'x'"):
        A.sampling_distribution(torch.zeros(3), top_p="x")


def test_sampling_distribution_keeps_partly_masked_rows():
    """A row with some -inf (top-k style masking) is valid: those tokens get probability 0."""
    p = A.sampling_distribution(torch.tensor([0.0, float("-inf"), 0.0], dtype=f64))
    assert torch.equal(p, torch.tensor([0.5, 0.0, 0.5], dtype=f64))


@pytest.mark.parametrize("positions,err,msg", [
    (torch.arange(5), ValueError, r"positions must have length L=3"),
    ("abc", TypeError, r"positions must be a torch.Tensor, got str"),
    (torch.arange(3.0), TypeError, r"positions must be an integer tensor, got dtype torch.float32"),
    (torch.zeros(2, 3, dtype=torch.long), ValueError, r"positions must have shape \(L,\) or \(B, L\) = \(1, 3\)"),
])
def test_positions_are_checked_without_rope(positions, err, msg):
    x = rnd(1, 3, 8).float()
    with pytest.raises(err, match=msg):
        A.MultiHeadAttention(8, 2)(x, positions=positions)
    with pytest.raises(err, match=msg):
        A.DifferentialAttention(8, 2, 1)(x, positions=positions)


def test_positions_are_refused_for_cross_attention():
    x = torch.randn(1, 3, 8)
    with pytest.raises(ValueError, match=r"positions must be None for cross-attention"):
        A.MultiHeadAttention(8, 2)(x, context=torch.randn(1, 4, 8), positions=torch.arange(3))


def test_valid_positions_without_rope_change_nothing():
    torch.manual_seed(0)
    mha = A.MultiHeadAttention(8, 2)
    x = torch.randn(2, 3, 8)
    assert torch.equal(mha(x), mha(x, positions=torch.arange(3)))


def test_mla_cache_refuses_mixed_dtypes_and_lengths():
    cache = A.MLACache()
    cache.append(torch.zeros(1, 2, 4), torch.zeros(1, 2, 2))
    with pytest.raises(ValueError, match=r"c_kv and the cache must have the same dtype, got torch.float64 and "
                                         r"torch.float32"):
        cache.append(torch.zeros(1, 1, 4, dtype=f64), torch.zeros(1, 1, 2, dtype=f64))
    with pytest.raises(ValueError, match=r"c_kv and k_rope must have the same dtype"):
        A.MLACache().append(torch.zeros(1, 1, 4), torch.zeros(1, 1, 2, dtype=f64))
    with pytest.raises(ValueError, match=r"k_rope must match c_kv in \(B, T\) = \(1, 2\), got shape \(1, 3, 2\)"):
        A.MLACache().append(torch.zeros(1, 2, 4), torch.zeros(1, 3, 2))
    with pytest.raises(ValueError, match=r"k_rope of shape \(1, 1, 3\) does not match the cache's"):
        cache.append(torch.zeros(1, 1, 4), torch.zeros(1, 1, 3))
    with pytest.raises(TypeError, match=r"c_kv must be a floating-point tensor"):
        A.MLACache().append(torch.zeros(1, 1, 4, dtype=torch.long), torch.zeros(1, 1, 2, dtype=torch.long))
    assert cache.length == 2  # nothing was appended by the refused calls


# -- found while probing beyond the issue: each gave NaN, a degenerate result or a raw torch error -----------

def test_non_finite_numeric_arguments_are_refused():
    q = rnd(1, 2, 3, 4)
    with pytest.raises(ValueError, match=r"attention_factor must be finite, got nan"):
        A.apply_rope(q, torch.arange(3), A.rope_frequencies(4)[0], attention_factor=float("nan"))
    for base in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"base must be > 0 and finite"):
            A.Rope(4, base=base)
    with pytest.raises(ValueError, match=r"eps must be finite, got nan"):
        A.linear_attention(q, q, q, eps=float("nan"))
    with pytest.raises(ValueError, match=r"eps must be a finite number >= 0, got -1.0"):
        A.linear_attention(q, q, q, eps=-1.0)
    with pytest.raises(ValueError, match=r"lambda_override must be finite, got nan"):
        A.DifferentialAttention(8, 2, 1, lambda_override=float("nan"))


def test_wrong_types_are_named():
    model = A.TinyDecoder(A.DecoderConfig())
    with pytest.raises(TypeError, match=r"seed must be an int, got str 'x'"):
        A.generate(model, [[1]], 1, seed="x")
    with pytest.raises(TypeError, match=r"a must be a floating-point tensor, got dtype torch.int64"):
        A.segsum(torch.arange(3))
    cfg = A.MLAConfig(d_model=16, n_heads=2, head_dim=4, kv_lora_rank=6, q_lora_rank=None, rope_head_dim=2)
    with pytest.raises(TypeError, match=r"positions must be a torch.Tensor, got str"):
        A.MultiHeadLatentAttention(cfg)(torch.randn(1, 3, 16), positions="abc")
