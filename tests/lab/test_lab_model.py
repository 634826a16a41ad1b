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


def _block_input(m, x):
    """The residual stream entering the first block (embeddings + positions + token shift)."""
    seen = {}
    handle = m.blocks[0].register_forward_pre_hook(lambda mod, args: seen.update(h=args[0]))   # returns None
    m(x)
    handle.remove()
    return seen["h"]


def test_sinusoidal_and_learned_positions_are_added_to_the_embeddings():
    from attn_ref import sinusoidal_positions
    x = torch.randint(0, 20, (2, 10), generator=torch.Generator().manual_seed(2))
    m = _model(positions="sinusoidal", max_len=12)
    assert torch.allclose(_block_input(m, x), m.embed(x) + sinusoidal_positions(10, 32, dtype=torch.float32))
    m = _model(positions="learned", max_len=12)
    assert m.pos_embed.weight.shape == (12, 32)                                      # one row per position
    assert torch.equal(_block_input(m, x), m.embed(x) + m.pos_embed.weight[:10])
    same = torch.full((1, 12), 3)                                                     # same token everywhere
    h = _block_input(m, same)[0]
    assert not torch.allclose(h[0], h[5])                                             # positions tell them apart
    assert _model(positions="nope").state_dict().keys() == _model(positions="rope").state_dict().keys()
    assert "pos_embed.weight" not in _model(positions="rope").state_dict()


def test_learned_positions_stop_at_the_table_and_train_only_the_rows_used():
    m = _model(positions="learned", max_len=12)
    m(torch.zeros(1, 12, dtype=torch.long))                                           # the whole table: fine
    with pytest.raises(ValueError, match=r"length 13 > max_len=12.*12 rows"):
        m(torch.zeros(1, 13, dtype=torch.long))
    with pytest.raises(ValueError, match="max_len=12"):
        _model(positions="sinusoidal", max_len=12)(torch.zeros(1, 13, dtype=torch.long))
    m(torch.randint(0, 20, (3, 8))).logits.sum().backward()                          # train at 8 of 12 positions
    g = m.pos_embed.weight.grad
    assert (g[:8].abs().sum(1) > 0).all() and (g[8:] == 0).all()                     # rows 8..11 never get a gradient


@pytest.mark.parametrize("kw", [
    dict(window=1), dict(window=3), dict(window=4, token_shift=True), dict(window=3, n_layers=3),
    dict(window=4, positions="alibi", token_shift=True), dict(window=5, attention="gqa", n_kv_heads=2),
    dict(window=3, positions="learned", token_shift=True, max_len=32),
], ids=lambda k: "-".join(f"{a}{b}" for a, b in k.items()))
def test_sliding_window_reach(kw):
    """The logits at i do not move when any token before i − reach changes, and do move when the token at
    exactly i − reach changes: reach = n_layers·(W − 1) (+1 with the token shift) is the receptive field."""
    m = _model(**kw)
    cfg = m.config
    reach = cfg.reach()
    assert reach == cfg.n_layers * (cfg.window - 1) + int(cfg.token_shift)
    L, i = 24, 23
    gen = torch.Generator().manual_seed(3)
    x = torch.randint(0, 20, (4, L), generator=gen)
    base = m(x).logits[:, i]
    far = x.clone()
    far[:, :i - reach] = torch.randint(0, 20, (4, i - reach), generator=gen)        # every token beyond the reach
    assert torch.allclose(m(far).logits[:, i], base, atol=1e-6, rtol=0)
    edge = x.clone()
    edge[:, i - reach] = (edge[:, i - reach] + 1) % 20                                # the farthest token it sees
    assert (m(edge).logits[:, i] - base).abs().amax() > 1e-4


def test_sliding_window_maps_and_validation():
    m = _model(window=3)
    out = m(torch.randint(0, 20, (2, 9)), return_maps=True)
    i = torch.arange(9)[:, None]
    j = torch.arange(9)[None, :]
    outside = (j > i) | (j <= i - 3)
    for w in out.maps:
        assert torch.all(w[..., outside] == 0)
        assert torch.allclose(w.sum(-1), torch.ones_like(w.sum(-1)), atol=1e-5)
    assert m.config.to_dict()["window"] == 3
    assert "window" not in ModelConfig(vocab_size=8).to_dict()                      # old configs unchanged
    assert ModelConfig(vocab_size=8).reach() is None
    assert ModelConfig.from_dict(m.config.to_dict()) == m.config
    for bad in (0, -2, 2.5, True):
        with pytest.raises(ValueError, match="window must be an int >= 1"):
            ModelConfig(vocab_size=8, window=bad)
    with pytest.raises(ValueError, match="window is supported with attention"):
        ModelConfig(vocab_size=8, attention="diff", n_heads=2, window=4)
