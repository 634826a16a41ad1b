"""Linear attention (arXiv:2006.16236): the three forms agree with each other and with plain loops."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_ref.linear import (
    FEATURE_MAPS,
    get_feature_map,
    linear_attention,
    linear_attention_state_elems,
    softmax_kv_cache_elems,
)
from attn_ref.trace import Trace

TOL = {"atol": 1e-12, "rtol": 1e-12}


def rand_qkv(B=2, H=2, L=7, Dk=3, Dv=4, Lk=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    Lk = L if Lk is None else Lk
    q = torch.randn(B, H, L, Dk, generator=g, dtype=torch.float64)
    k = torch.randn(B, H, Lk, Dk, generator=g, dtype=torch.float64)
    v = torch.randn(B, H, Lk, Dv, generator=g, dtype=torch.float64)
    return q, k, v


def elu1(x: float) -> float:
    return x + 1.0 if x > 0 else math.exp(x)  # elu(x) + 1, written out


def loop_oracle(q, k, v, causal, eps=1e-6, phi=elu1):
    """y_i = Σ_j w_ij v_j / (Σ_j w_ij + eps), w_ij = φ(q_i)·φ(k_j), with plain Python loops."""
    B, H, L, Dk = q.shape
    Lk, Dv = k.shape[2], v.shape[-1]
    out = torch.zeros(B, H, L, Dv, dtype=torch.float64)
    for b in range(B):
        for h in range(H):
            for i in range(L):
                num = [0.0] * Dv
                den = 0.0
                for j in range(i + 1 if causal else Lk):
                    w = sum(phi(q[b, h, i, d].item()) * phi(k[b, h, j, d].item()) for d in range(Dk))
                    den += w
                    for e in range(Dv):
                        num[e] += w * v[b, h, j, e].item()
                for e in range(Dv):
                    out[b, h, i, e] = num[e] / (den + eps)
    return out


@pytest.mark.parametrize("causal", [True, False])
def test_parallel_matches_loop_oracle(causal):
    q, k, v = rand_qkv(B=1, H=2, L=5, Dk=3, Dv=2)
    y = linear_attention(q, k, v, causal=causal, form="parallel")
    torch.testing.assert_close(y, loop_oracle(q, k, v, causal), **TOL)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64])
def test_causal_forms_agree(chunk):
    q, k, v = rand_qkv(L=7)
    yp = linear_attention(q, k, v, causal=True, form="parallel")
    yr = linear_attention(q, k, v, causal=True, form="recurrent")
    yc = linear_attention(q, k, v, causal=True, form="chunked", chunk=chunk)
    torch.testing.assert_close(yr, yp, **TOL)
    torch.testing.assert_close(yc, yp, **TOL)


@pytest.mark.parametrize("form,chunk", [("parallel", 64), ("recurrent", 64), ("chunked", 3), ("chunked", 4)])
def test_noncausal_equals_kv_first_closed_form(form, chunk):
    q, k, v = rand_qkv(L=5, Lk=7)  # non-causal allows Lq != Lk
    fq, fk = FEATURE_MAPS["elu1"](q), FEATURE_MAPS["elu1"](k)
    kv = fk.transpose(-1, -2) @ v  # φ(K)ᵀ V first: (B, H, Dk, Dv)
    expected = (fq @ kv) / (fq @ fk.sum(2)[..., None] + 1e-6)
    y = linear_attention(q, k, v, causal=False, form=form, chunk=chunk)
    torch.testing.assert_close(y, expected, **TOL)


def test_causal_output_ignores_future_tokens():
    q, k, v = rand_qkv(L=6)
    y = linear_attention(q, k, v, form="chunked", chunk=4)
    k2, v2 = k.clone(), v.clone()
    k2[:, :, 4:] += 3.0
    v2[:, :, 4:] -= 5.0
    y2 = linear_attention(q, k2, v2, form="chunked", chunk=4)
    torch.testing.assert_close(y2[:, :, :4], y[:, :, :4], **TOL)
    assert not torch.allclose(y2[:, :, 4:], y[:, :, 4:])


@pytest.mark.parametrize("fmap", ["relu", "identity", lambda x: x.square()])
def test_other_feature_maps(fmap):
    q, k, v = rand_qkv(L=6)
    if fmap == "identity":  # identity is not positive: keep the normaliser away from 0
        q, k = q.abs() + 0.1, k.abs() + 0.1
    phi = get_feature_map(fmap)
    fq, fk = phi(q), phi(k)
    scores = (fq @ fk.transpose(-1, -2)).tril()
    expected = (scores @ v) / (scores.sum(-1, keepdim=True) + 1e-6)
    for form in ("parallel", "recurrent", "chunked"):
        y = linear_attention(q, k, v, feature_map=fmap, form=form, chunk=4)
        torch.testing.assert_close(y, expected, **TOL)


def test_state_size_independent_of_length():
    shapes = []
    for L in (8, 64):
        q, k, v = rand_qkv(B=1, H=2, L=L, Dk=3, Dv=4)
        _y, (S, z) = linear_attention(q, k, v, form="chunked", chunk=16, return_state=True)
        # The final state is Σ_j φ(k_j) v_jᵀ and Σ_j φ(k_j), whatever the form.
        fk = FEATURE_MAPS["elu1"](k)
        torch.testing.assert_close(S, torch.einsum("bhld,bhle->bhde", fk, v), **TOL)
        torch.testing.assert_close(z, fk.sum(2), **TOL)
        shapes.append((tuple(S.shape), tuple(z.shape)))
        assert S.numel() + z.numel() == linear_attention_state_elems(3, 4, 2)  # B = 1
    assert shapes[0] == shapes[1] == ((1, 2, 3, 4), (1, 2, 3))
    assert softmax_kv_cache_elems(64, 3, 4, 2) == 8 * softmax_kv_cache_elems(8, 3, 4, 2) == 64 * 2 * 7


def test_recurrent_trace_last_state_equals_output():
    q, k, v = rand_qkv(L=6)
    trace = Trace()
    y, (S, z) = linear_attention(q, k, v, form="recurrent", trace=trace, return_state=True)
    steps = trace.of_kind("linear.step")
    assert [s.index for s in steps] == [(t,) for t in range(6)]
    for t, s in enumerate(steps):
        torch.testing.assert_close(s["y"], y[:, :, t], **TOL)
        assert s["S"].shape == (2, 2, 3, 4) and s["z"].shape == (2, 2, 3)
    torch.testing.assert_close(steps[-1]["S"], S, **TOL)
    torch.testing.assert_close(steps[-1]["z"], z, **TOL)
    # The state grows token by token: S_t − S_{t−1} = φ(k_t) v_tᵀ.
    fk = FEATURE_MAPS["elu1"](k)
    torch.testing.assert_close(steps[3]["S"] - steps[2]["S"], fk[:, :, 3, :, None] * v[:, :, 3, None, :], **TOL)


def test_noncausal_recurrent_and_chunked_traces():
    q, k, v = rand_qkv(L=5)
    tr, tc = [], []
    y, (S, _z) = linear_attention(q, k, v, causal=False, form="recurrent", trace=tr, return_state=True)
    yc = linear_attention(q, k, v, causal=False, form="chunked", chunk=2, trace=tc)
    assert tr[-1].kind == "linear.output"
    torch.testing.assert_close(tr[-1]["y"], y, **TOL)
    torch.testing.assert_close(tr[-1]["S"], S, **TOL)
    assert [s.kind for s in tc] == ["linear.chunk"] * 3
    torch.testing.assert_close(tc[-1]["S"], S, **TOL)
    torch.testing.assert_close(yc, y, **TOL)


def test_causal_chunked_trace_last_output():
    q, k, v = rand_qkv(L=7)
    tc = []
    y = linear_attention(q, k, v, form="chunked", chunk=3, trace=tc)
    assert len(tc) == 3 and tc[-1]["y"].shape[2] == 1
    torch.testing.assert_close(tc[-1]["y"], y[:, :, 6:], **TOL)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"feature_map": "softmax"}, "feature_map"),
        ({"form": "fast"}, "form"),
        ({"form": "chunked", "chunk": 0}, "chunk"),
        ({"form": "chunked", "chunk": -2}, "chunk"),
    ],
)
def test_bad_arguments(kwargs, match):
    q, k, v = rand_qkv(L=4)
    with pytest.raises(ValueError, match=match):
        linear_attention(q, k, v, **kwargs)


def test_bad_shapes():
    q, k, v = rand_qkv(L=4)
    with pytest.raises(ValueError, match="head dim"):
        linear_attention(q, k[..., :2], v)
    with pytest.raises(ValueError, match="same length"):
        linear_attention(q, k, v[:, :, :3])
    with pytest.raises(ValueError, match="causal"):
        linear_attention(q[:, :, :3], k, v)
    with pytest.raises(ValueError, match="dtype"):
        linear_attention(q.float(), k, v)
    with pytest.raises(ValueError, match="q must have 4 dimensions"):
        linear_attention(q[0], k, v)
    with pytest.raises(TypeError, match="chunk"):
        linear_attention(q, k, v, form="chunked", chunk=2.0)


@settings(max_examples=15, deadline=None)
@given(L=st.integers(1, 12), chunk=st.integers(1, 13), causal=st.booleans(), seed=st.integers(0, 10_000))
def test_property_forms_agree(L, chunk, causal, seed):
    q, k, v = rand_qkv(B=1, H=1, L=L, Dk=2, Dv=3, seed=seed)
    yp = linear_attention(q, k, v, causal=causal)
    yr = linear_attention(q, k, v, causal=causal, form="recurrent")
    yc = linear_attention(q, k, v, causal=causal, form="chunked", chunk=chunk)
    torch.testing.assert_close(yr, yp, **TOL)
    torch.testing.assert_close(yc, yp, **TOL)
