"""The selective-copying task against a brute-force definition, and the lab's S4D and Mamba sequence mixers
(equal to the recurrence, causal, no attention maps, config errors)."""
import pytest
import torch

from attn_ref import discretize_zoh, ssm_recurrence
from attn_ref.lab import ModelConfig, TinyTransformer
from attn_ref.lab.experiments._common import _forward
from attn_ref.lab.model import S4DLayer
from attn_ref.lab.tasks import IGNORE, SelectiveCopying, make_task


def _oracle(tokens, task):
    """Brute force: walk the context region, collect the non-noise tokens in order; they are the targets at
    the K MARK positions that follow."""
    R, K = task.region, task.n_tokens
    content = [t for t in tokens[:R] if t != task.noise]
    assert len(content) == K and all(0 <= t < task.n_content for t in content)
    assert tokens[R:] == [task.mark] * K
    return [IGNORE] * R + content


@pytest.mark.parametrize("spacing", ["random", "even"])
def test_task_matches_brute_force(spacing):
    task = SelectiveCopying(region=20, n_tokens=5, n_content=6, spacing=spacing)
    b = task.sample(64, torch.Generator().manual_seed(3))
    assert b.tokens.shape == (64, 25) and task.vocab_size == 8
    for i in range(64):
        toks = b.tokens[i].tolist()
        assert b.targets[i].tolist() == _oracle(toks, task)
        pos = [p for p in range(20) if toks[p] != task.noise]
        assert b.info["content_pos"][i].tolist() == pos
        if spacing == "even":
            assert pos == [0, 4, 8, 12, 16]
    assert torch.equal(b.weights, (b.targets != IGNORE).float())
    if spacing == "random":                                        # positions really vary between samples
        assert len({tuple(p) for p in b.info["content_pos"].tolist()}) > 50
    assert make_task(task.to_dict()) == task
    again = task.sample(64, torch.Generator().manual_seed(3))
    assert torch.equal(again.tokens, b.tokens)
    with pytest.raises(ValueError, match="spacing"):
        SelectiveCopying(spacing="odd")
    with pytest.raises(ValueError, match="n_tokens"):
        SelectiveCopying(region=4, n_tokens=5)


def test_s4d_layer_equals_its_recurrence():
    torch.manual_seed(0)
    layer = S4DLayer(d_model=4, d_state=6, expand=2).double()
    x = torch.randn(2, 11, 4, dtype=torch.float64)
    u = layer.in_proj(x).transpose(1, 2)                           # (B, H, L)
    A, C, dt = layer.ssm_params()
    A_bar, B_bar = discretize_zoh(A, torch.ones_like(A), dt[:, None])
    y = ssm_recurrence(u, A_bar, B_bar, C, conj_pairs=True) + layer.D[:, None] * u
    ref = layer.out_proj(torch.nn.functional.gelu(y.transpose(1, 2)))
    assert torch.allclose(layer(x), ref, atol=1e-10)
    # time-invariant: the same kernel at every position, whatever the input
    K = layer.kernel(11)
    y5 = layer._mix(layer.in_proj(x))[:, 5] - layer.D * u[..., 5]      # y_5 − D u_5 = Σ_{s≤5} K_{5−s} u_s
    assert torch.allclose(y5, (K.flip(-1)[None, :, 5:] * u[..., :6]).sum(-1), atol=1e-10)


@pytest.mark.parametrize("kind", ["s4d", "mamba"])
def test_ssm_mixers_are_causal_and_have_no_maps(kind):
    torch.manual_seed(0)
    m = TinyTransformer(ModelConfig(vocab_size=10, d_model=16, n_layers=2, d_ff=0, attention=kind,
                                    positions="nope", d_state=4))
    x = torch.randint(0, 10, (3, 12), generator=torch.Generator().manual_seed(1))
    out = m(x, return_maps=True)
    assert out.maps == [None, None] and not m.config.has_maps
    lg, maps = _forward(m, x, maps=True, chunk=2)                  # the lab's chunked forward copes with None
    assert maps == [None, None] and torch.allclose(lg, out.logits, atol=1e-6)
    for i in (0, 5, 10):
        y = x.clone()
        y[:, i + 1:] = (y[:, i + 1:] + 3) % 10
        after = m(y).logits
        assert torch.allclose(after[:, :i + 1], out.logits[:, :i + 1], atol=1e-5)
        assert (after[:, i + 1:] - out.logits[:, i + 1:]).abs().amax() > 1e-4


def test_ssm_mixer_config_validation():
    for kind in ("s4d", "mamba"):
        for pos in ("rope", "alibi", "sinusoidal", "learned"):
            with pytest.raises(ValueError, match=f"not supported with attention='{kind}'"):
                ModelConfig(vocab_size=8, attention=kind, positions=pos)
    with pytest.raises(ValueError, match="d_state is used by the SSM mixers"):
        ModelConfig(vocab_size=8, d_state=4)
    with pytest.raises(ValueError, match="must be even"):
        ModelConfig(vocab_size=8, attention="s4d", positions="nope", d_state=5)
    assert "d_state" not in ModelConfig(vocab_size=8).to_dict()       # old configs unchanged
    c = ModelConfig(vocab_size=8, attention="mamba", positions="nope", d_state=4, expand=1)
    assert ModelConfig.from_dict(c.to_dict()) == c
