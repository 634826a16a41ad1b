"""MambaBlock (arXiv:2312.00752): recurrent decoding equals the full forward; shapes; clear errors."""
import math

import pytest
import torch
import torch.nn.functional as F

from attn_ref.mamba import MambaBlock

TOL = {"atol": 1e-10, "rtol": 1e-10}


def block(seed=0, **kw):
    torch.manual_seed(seed)
    kw = {"d_model": 4, "d_state": 3, "d_conv": 3, "expand": 2} | kw
    return MambaBlock(**kw).double()


def inputs(B=2, L=6, d=4, seed=1):
    return torch.randn(B, L, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_output_shape_and_init():
    m = block()
    x = inputs()
    assert m(x).shape == (2, 6, 4)
    assert m.d_inner == 8 and m.dt_rank == math.ceil(4 / 16)
    torch.testing.assert_close(m.A, -torch.arange(1, 4, dtype=torch.float64).expand(8, 3))  # S4D-real
    dt0 = F.softplus(m.dt_proj.bias)
    assert (dt0 >= 1e-3 - 1e-12).all() and (dt0 <= 0.1 + 1e-12).all()
    assert block(dt_rank=2).x_proj.out_features == 2 + 2 * 3
    float_block = MambaBlock(4, d_state=3)
    assert float_block(inputs().float()).dtype == torch.float32


@pytest.mark.parametrize("conv_bias,bias", [(True, False), (False, True)])
def test_step_decoding_equals_forward(conv_bias, bias):
    m = block(conv_bias=conv_bias, bias=bias)
    x = inputs()
    y_full = m(x)
    state = m.initial_state(2)
    outs = []
    for t in range(x.shape[1]):
        y_t, state = m.step(x[:, t], state)
        outs.append(y_t)
    torch.testing.assert_close(torch.stack(outs, dim=1), y_full, **TOL)


def test_prefill_then_step():
    """forward(..., return_state=True) on a prefix, then step() on the rest, equals one forward."""
    m = block()
    x = inputs(L=7)
    y_full = m(x)
    for split in (2, 5):  # prefix shorter and longer than d_conv = 3
        y_pre, state = m(x[:, :split], return_state=True)
        torch.testing.assert_close(y_pre, y_full[:, :split], **TOL)
        for t in range(split, 7):
            y_t, state = m.step(x[:, t:t + 1], state)  # (B, 1, d_model) form
            assert y_t.shape == (2, 1, 4)
            torch.testing.assert_close(y_t[:, 0], y_full[:, t], **TOL)


def test_step_does_not_mutate_state_and_none_is_zero():
    m = block()
    x = inputs(L=1)[:, 0]
    state = m.initial_state(2)
    y0, new = m.step(x, state)
    assert all((s == 0).all() for s in state)
    y1, _ = m.step(x, None)
    torch.testing.assert_close(y1, y0, **TOL)
    assert not torch.equal(new[1], state[1])


def test_parallel_scan_forward_equals_sequential():
    m = block()
    x = inputs()
    torch.testing.assert_close(m(x, method="parallel"), m(x), **TOL)


def test_causal():
    m = block()
    x = inputs()
    x2 = x.clone()
    x2[:, 4:] += 1.0
    y, y2 = m(x), m(x2)
    torch.testing.assert_close(y2[:, :4], y[:, :4], **TOL)
    assert not torch.allclose(y2[:, 4:], y[:, 4:])


def test_gradients_flow():
    m = block()
    m(inputs()).sum().backward()
    for name in ("A_log", "D"):
        g = getattr(m, name).grad
        assert g is not None and torch.isfinite(g).all() and g.abs().sum() > 0
    assert m.dt_proj.bias.grad.abs().sum() > 0


def test_errors():
    m = block()
    with pytest.raises(ValueError, match="d_model=4"):
        m(inputs(d=5))
    with pytest.raises(ValueError, match="x must have 3 dimensions"):
        m(inputs()[0])
    with pytest.raises(ValueError, match="method"):
        m(inputs(), method="cuda")
    with pytest.raises(ValueError, match="ssm_state"):
        m.step(inputs()[:, 0], (torch.zeros(2, 8, 3, dtype=torch.float64), torch.zeros(2, 8, 5, dtype=torch.float64)))
    with pytest.raises(ValueError, match="conv_state"):
        m.step(inputs()[:, 0], (torch.zeros(2, 8, 4, dtype=torch.float64), torch.zeros(2, 8, 3, dtype=torch.float64)))
    with pytest.raises(TypeError, match="state"):
        m.step(inputs()[:, 0], torch.zeros(2, 8, 3))
    with pytest.raises(ValueError, match="x_t"):
        m.step(inputs()[:, :2])
    with pytest.raises(ValueError, match="dt_rank"):
        MambaBlock(4, dt_rank="big")
    with pytest.raises(ValueError, match="d_state"):
        MambaBlock(4, d_state=0)
    with pytest.raises(ValueError, match="d_model"):
        MambaBlock(0)
