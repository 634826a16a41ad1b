"""TinyTransformer: every attention kind runs, returns maps with the right properties, and is causal."""
import pytest
import torch

from attn_ref import RopeScaling, linear_attention
from attn_ref.lab import ModelConfig, TinyTransformer

KINDS = [
    dict(attention="mha", positions="rope"),
    dict(attention="mha", positions="nope"),
    dict(attention="mha", positions="alibi"),
    dict(attention="mha", positions="sinusoidal"),
    dict(attention="gqa", positions="rope", n_kv_heads=2),
    dict(attention="diff", positions="rope", n_heads=2),
    dict(attention="moa", positions="sinusoidal", n_experts=4, top_k=2),
    dict(attention="switchhead", positions="nope", n_experts=4, top_k=2),
    dict(attention="linear", positions="nope", token_shift=True),
]


def _model(**kw):
    torch.manual_seed(0)
    cfg = dict(vocab_size=20, d_model=32, n_layers=2, n_heads=4, d_ff=32)
    cfg.update(kw)
    return TinyTransformer(ModelConfig(**cfg))


@pytest.mark.parametrize("kw", KINDS, ids=lambda k: f"{k['attention']}-{k['positions']}")
def test_forward_maps_and_causality(kw):
    m = _model(**kw)
    x = torch.randint(0, 20, (3, 10), generator=torch.Generator().manual_seed(1))
    out = m(x, return_maps=True)
    assert out.logits.shape == (3, 10, 20)
    assert len(out.maps) == 2
    for w in out.maps:
        assert w.shape[0] == 3 and w.shape[-2:] == (10, 10)
        assert torch.all(w.triu(1) == 0)                                  # causal: no future keys
        if kw["attention"] != "diff":
            assert torch.allclose(w.sum(-1), torch.ones_like(w.sum(-1)), atol=1e-5)
    # changing a later token never changes earlier logits
    y = x.clone()
    y[:, 7] = (y[:, 7] + 1) % 20
    assert torch.allclose(m(x).logits[:, :7], m(y).logits[:, :7], atol=1e-5)
    # maps do not change the output
    assert torch.equal(m(x).logits, out.logits)


def test_differential_map_rows_sum_to_one_minus_lambda():
    m = _model(attention="diff", positions="rope", n_heads=2)
    x = torch.randint(0, 20, (2, 9))
    out = m(x, return_maps=True)
    for blk, w in zip(m.blocks, out.maps):
        lam = float(blk.attn.lambda_full().detach())
        assert torch.allclose(w.sum(-1), torch.full_like(w.sum(-1), 1 - lam), atol=1e-5)
    assert "lambda" in out.aux[0]


def test_linear_map_is_the_kernel_attention():
    m = _model(attention="linear", positions="nope")
    x = torch.randint(0, 20, (2, 8))
    out = m(x, return_maps=True)
    layer = m.blocks[0].attn
    u = m.blocks[0].attn_norm(m.embed(x))
    B, L, H, hd = 2, 8, 4, 8
    q = layer.q_proj(u).view(B, L, H, hd).transpose(1, 2)
    k = layer.k_proj(u).view(B, L, H, hd).transpose(1, 2)
    fq, fk = torch.nn.functional.elu(q) + 1, torch.nn.functional.elu(k) + 1
    a = (fq @ fk.transpose(-1, -2)).tril()
    assert torch.allclose(out.maps[0], a / (a.sum(-1, keepdim=True) + 1e-6), atol=1e-5)
    v = layer.v_proj(u).view(B, L, H, hd).transpose(1, 2)
    assert torch.allclose(out.maps[0] @ v, linear_attention(q, k, v), atol=1e-5)


def test_moa_reports_routing():
    m = _model(attention="moa", positions="sinusoidal", n_experts=4, top_k=2)
    out = m(torch.randint(0, 20, (2, 6)))
    aux = out.aux[0]
    assert aux["expert_index"].shape == (12, 2) and "load_balancing_loss" in aux


def test_rope_scaling_is_eval_time_only():
    m = _model(attention="mha", positions="rope")
    x = torch.randint(0, 20, (2, 12))
    base = m(x).logits
    sd = {k: v.clone() for k, v in m.state_dict().items()}
    m.set_rope_scaling(RopeScaling("linear", 2.0))
    assert not torch.allclose(m(x).logits, base)
    m.set_rope_scaling(RopeScaling("yarn", 2.0, original_max_position=8))
    assert not torch.allclose(m(x).logits, base)
    m.set_rope_scaling(None)
    assert torch.equal(m(x).logits, base)
    assert all(torch.equal(v, m.state_dict()[k]) for k, v in sd.items())
    with pytest.raises(ValueError, match="positions='rope'"):
        _model(attention="mha", positions="alibi").set_rope_scaling(None)


def test_alibi_bias_reaches_the_scores():
    m = _model(attention="mha", positions="alibi", n_layers=1, d_ff=0)
    x = torch.zeros(1, 6, dtype=torch.long)                              # identical tokens: only the bias differs
    w = m(x, return_maps=True).maps[0][0]
    assert torch.all(w[:, -1, -1] > w[:, -1, 0])                          # recent keys favoured


def test_config_validation():
    with pytest.raises(ValueError, match="positions='alibi' is not supported"):
        ModelConfig(vocab_size=8, attention="linear", positions="alibi")
    with pytest.raises(ValueError, match="gqa"):
        ModelConfig(vocab_size=8, attention="gqa", n_heads=4, n_kv_heads=4)
    with pytest.raises(ValueError, match="attention must be one of"):
        ModelConfig(vocab_size=8, attention="flash")
    with pytest.raises(ValueError, match="d_ff"):
        ModelConfig(vocab_size=8, d_ff=-1)
    with pytest.raises(TypeError, match="ModelConfig"):
        TinyTransformer({"vocab_size": 8})
    cfg = ModelConfig(vocab_size=8, attention="gqa", n_heads=4, n_kv_heads=2)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
