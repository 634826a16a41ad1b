"""S4/S4D discretisation and kernels, Mamba's selective scan, Mamba-2's SSD — against independent oracles."""
import cmath
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_ref.ssm import (
    discretize_bilinear,
    discretize_zoh,
    s4d_kernel,
    segsum,
    selective_scan,
    ssd,
    ssm_convolution,
    ssm_recurrence,
)
from attn_ref.trace import Trace

TOL = {"atol": 1e-10, "rtol": 1e-10}
f64 = torch.float64


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------------------------------------
# Discretisation
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("a,b,dt", [(-0.7, 1.3, 0.25), (2.0, -0.5, 0.1), (-3.0, 0.2, 1.5)])
def test_zoh_scalar_closed_form(a, b, dt):
    A_bar, B_bar = discretize_zoh(torch.tensor([a], dtype=f64), torch.tensor([b], dtype=f64), dt)
    assert A_bar.item() == pytest.approx(math.exp(a * dt), rel=1e-14)
    assert B_bar.item() == pytest.approx((math.exp(a * dt) - 1.0) / a * b, rel=1e-12)


def test_zoh_zero_eigenvalue_limit():
    A_bar, B_bar = discretize_zoh(torch.tensor([0.0, -1.0], dtype=f64), torch.tensor([2.0, 2.0], dtype=f64), 0.5)
    assert A_bar[0].item() == 1.0
    assert B_bar[0].item() == pytest.approx(1.0)  # Δ B
    assert torch.isfinite(B_bar).all()


@pytest.mark.parametrize("dtype", [torch.float64, torch.complex128])
def test_zoh_matches_matrix_exponential(dtype):
    """Exact ZOH: expm([[A, B], [0, 0]] Δ) = [[Ā, B̄], [0, I]] (Van Loan), here with a diagonal A."""
    g = gen(1)
    N, dt = 3, 0.37
    A = -torch.rand(N, generator=g, dtype=f64) - 0.2
    if dtype == torch.complex128:
        A = A + 1j * torch.randn(N, generator=g, dtype=f64)
    B = torch.randn(N, generator=g, dtype=f64).to(dtype)
    M = torch.zeros(N + 1, N + 1, dtype=dtype)
    M[:N, :N] = torch.diag(A)
    M[:N, N] = B
    E = torch.linalg.matrix_exp(M * dt)
    A_bar, B_bar = discretize_zoh(A, B, dt)
    torch.testing.assert_close(torch.diag(A_bar), E[:N, :N], **TOL)
    torch.testing.assert_close(B_bar, E[:N, N], **TOL)


def test_bilinear_scalar_closed_form():
    a, b, dt = -0.8, 1.1, 0.3
    A_bar, B_bar = discretize_bilinear(torch.tensor([a], dtype=f64), torch.tensor([b], dtype=f64), dt)
    assert A_bar.item() == pytest.approx((1 + dt / 2 * a) / (1 - dt / 2 * a), rel=1e-14)
    assert B_bar.item() == pytest.approx(dt * b / (1 - dt / 2 * a), rel=1e-14)


# ------------------------------------------------------------------------------------------------
# S4D kernel, convolution, recurrence
# ------------------------------------------------------------------------------------------------

def s4d_params(complex_: bool, H=2, N=3, seed=0):
    g = gen(seed)
    A = -torch.rand(H, N, generator=g, dtype=f64) - 0.1
    B = torch.randn(H, N, generator=g, dtype=f64)
    C = torch.randn(H, N, generator=g, dtype=f64)
    if complex_:
        A = A + 1j * math.pi * torch.randn(H, N, generator=g, dtype=f64)
        B = B + 1j * torch.randn(H, N, generator=g, dtype=f64)
        C = C + 1j * torch.randn(H, N, generator=g, dtype=f64)
    delta = torch.rand(H, generator=g, dtype=f64) * 0.5 + 0.05
    return A, B, C, delta


@pytest.mark.parametrize("complex_", [False, True])
def test_s4d_kernel_against_power_loop(complex_):
    A, B, C, delta = s4d_params(complex_)
    L = 6
    K = s4d_kernel(A, B, C, delta, L)
    H, N = A.shape
    for h in range(H):
        dt = delta[h].item()
        for ell in range(L):
            acc = 0j
            for n in range(N):
                a, b, c = complex(A[h, n].item()), complex(B[h, n].item()), complex(C[h, n].item())
                a_bar = cmath.exp(dt * a)
                b_bar = (a_bar - 1) / a * b
                acc += c * b_bar * a_bar**ell  # C Ā^l B̄ by repeated powers
            assert K[h, ell].item() == pytest.approx(acc.real, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("complex_", [False, True])
def test_convolution_equals_recurrence(complex_):
    A, B, C, delta = s4d_params(complex_)
    L = 9
    u = torch.randn(2, 2, L, generator=gen(3), dtype=f64)  # (batch, H, L)
    K = s4d_kernel(A, B, C, delta, L)  # (H, L)
    A_bar, B_bar = discretize_zoh(A, B, delta[:, None])
    y_conv = ssm_convolution(u, K)
    y_rec = ssm_recurrence(u, A_bar, B_bar, C)
    torch.testing.assert_close(y_conv, y_rec, **TOL)


def test_convolution_against_direct_sum():
    g = gen(4)
    u = torch.randn(3, 8, generator=g, dtype=f64)
    K = torch.randn(3, 8, generator=g, dtype=f64)
    expected = torch.zeros_like(u)
    for r in range(3):
        for t in range(8):
            expected[r, t] = sum(K[r, t - s].item() * u[r, s].item() for s in range(t + 1))
    torch.testing.assert_close(ssm_convolution(u, K), expected, **TOL)


def test_conj_pairs_factor_two():
    """Half of each conjugate pair with 2·Re equals the full set of modes with Re."""
    A, B, C, delta = s4d_params(True, H=1, N=2)
    full = [torch.cat([M, M.conj()], dim=-1) for M in (A, B, C)]
    L = 7
    K_full = s4d_kernel(*full, delta, L)
    K_half = s4d_kernel(A, B, C, delta, L, conj_pairs=True)
    torch.testing.assert_close(K_half, K_full, **TOL)
    u = torch.randn(1, L, generator=gen(5), dtype=f64)
    A_bar, B_bar = discretize_zoh(A, B, delta[:, None])
    y_half = ssm_recurrence(u, A_bar, B_bar, C, conj_pairs=True)
    torch.testing.assert_close(y_half, ssm_convolution(u, K_full), **TOL)


def test_recurrence_trace_and_state():
    A, B, C, delta = s4d_params(False)
    A_bar, B_bar = discretize_zoh(A, B, delta[:, None])
    u = torch.randn(2, 5, generator=gen(6), dtype=f64)
    trace = []
    y, x = ssm_recurrence(u, A_bar, B_bar, C, trace=trace, return_state=True)
    assert len(trace) == 5 and trace[-1].kind == "ssm.step"
    torch.testing.assert_close(trace[-1]["x"], x, **TOL)
    torch.testing.assert_close(trace[-1]["y"], y[..., -1], **TOL)


def test_s4d_shape_errors():
    A, B, C, delta = s4d_params(False)
    with pytest.raises(ValueError, match="state size"):
        s4d_kernel(A, B[:, :2], C, delta, 4)
    with pytest.raises(ValueError, match="length"):
        s4d_kernel(A, B, C, delta, 0)


# ------------------------------------------------------------------------------------------------
# Selective scan (Mamba S6)
# ------------------------------------------------------------------------------------------------

def softplus(x: float) -> float:
    return math.log1p(math.exp(x)) if x < 30 else x


def silu(x: float) -> float:
    return x / (1.0 + math.exp(-x))


def scan_oracle(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False):
    """Plain-loop S6: h ← exp(Δa) h + Δ b u; y = Σ_n c h (+ D u)(· silu z); B/C as (Bt, N, L) or (Bt, G, N, L)."""
    Bt, Dm, L = u.shape
    N = A.shape[1]
    out = torch.zeros(Bt, Dm, L, dtype=f64)
    last = torch.zeros(Bt, Dm, N, dtype=f64)
    for b in range(Bt):
        for d in range(Dm):
            h = [0.0] * N
            for t in range(L):
                dt = delta[b, d, t].item() + (delta_bias[d].item() if delta_bias is not None else 0.0)
                dt = softplus(dt) if delta_softplus else dt
                y = 0.0
                for n in range(N):
                    if B.dim() == 3:
                        bb, cc = B[b, n, t].item(), C[b, n, t].item()
                    else:
                        grp = d // (Dm // B.shape[1])
                        bb, cc = B[b, grp, n, t].item(), C[b, grp, n, t].item()
                    h[n] = math.exp(dt * A[d, n].item()) * h[n] + dt * bb * u[b, d, t].item()
                    y += cc * h[n]
                if D is not None:
                    y += D[d].item() * u[b, d, t].item()
                if z is not None:
                    y *= silu(z[b, d, t].item())
                out[b, d, t] = y
            last[b, d] = torch.tensor(h, dtype=f64)
    return out, last


def scan_inputs(Bt=2, Dm=4, L=6, N=3, G=None, seed=0):
    g = gen(seed)
    u = torch.randn(Bt, Dm, L, generator=g, dtype=f64)
    delta = torch.randn(Bt, Dm, L, generator=g, dtype=f64)
    A = -torch.rand(Dm, N, generator=g, dtype=f64) * 2 - 0.1
    shape = (Bt, N, L) if G is None else (Bt, G, N, L)
    B = torch.randn(*shape, generator=g, dtype=f64)
    C = torch.randn(*shape, generator=g, dtype=f64)
    D = torch.randn(Dm, generator=g, dtype=f64)
    z = torch.randn(Bt, Dm, L, generator=g, dtype=f64)
    bias = torch.randn(Dm, generator=g, dtype=f64)
    return u, delta, A, B, C, D, z, bias


@pytest.mark.parametrize("method", ["sequential", "parallel"])
@pytest.mark.parametrize("G", [None, 2])
def test_selective_scan_matches_loop_oracle(method, G):
    u, delta, A, B, C, D, z, bias = scan_inputs(G=G)
    out, last = selective_scan(u, delta, A, B, C, D=D, z=z, delta_bias=bias, delta_softplus=True,
                               method=method, return_last_state=True)
    exp_out, exp_last = scan_oracle(u, delta, A, B, C, D=D, z=z, delta_bias=bias, delta_softplus=True)
    torch.testing.assert_close(out, exp_out, **TOL)
    torch.testing.assert_close(last, exp_last, **TOL)


def test_selective_scan_plain_no_extras():
    u, delta, A, B, C, *_ = scan_inputs(seed=1)
    delta = delta.abs()  # Δ used as given: no bias, no softplus
    out = selective_scan(u, delta, A, B, C)
    torch.testing.assert_close(out, scan_oracle(u, delta, A, B, C)[0], **TOL)


def test_selective_scan_time_invariant_B_C():
    """B, C of shape (D, N) equal the selective form with the same B_t for every t and batch."""
    u, delta, A, _, _, D, z, bias = scan_inputs(seed=2)
    g = gen(7)
    Bf = torch.randn(4, 3, generator=g, dtype=f64)
    Cf = torch.randn(4, 3, generator=g, dtype=f64)
    out = selective_scan(u, delta, A, Bf, Cf, D=D, z=z, delta_bias=bias, delta_softplus=True)
    # Channel-wise oracle: run each channel d alone with B_t = Bf[d] broadcast to (Bt, N, L).
    for d in range(4):
        Bd = Bf[d][None, :, None].expand(2, 3, 6)
        Cd = Cf[d][None, :, None].expand(2, 3, 6)
        exp_d, _ = scan_oracle(u[:, d:d + 1], delta[:, d:d + 1], A[d:d + 1], Bd, Cd, D=D[d:d + 1],
                               z=z[:, d:d + 1], delta_bias=bias[d:d + 1], delta_softplus=True)
        torch.testing.assert_close(out[:, d:d + 1], exp_d, **TOL)
    out_p = selective_scan(u, delta, A, Bf, Cf, D=D, z=z, delta_bias=bias, delta_softplus=True, method="parallel")
    torch.testing.assert_close(out_p, out, **TOL)


def test_selective_scan_reduces_to_cumsum():
    """A = 0, Δ = 1, B = C = 1, N = 1: h_t = h_{t−1} + u_t, so y = cumsum(u)."""
    u = torch.randn(2, 3, 9, generator=gen(8), dtype=f64)
    ones = torch.ones(2, 1, 9, dtype=f64)
    for method in ("sequential", "parallel"):
        y = selective_scan(u, torch.ones_like(u), torch.zeros(3, 1, dtype=f64), ones, ones, method=method)
        torch.testing.assert_close(y, u.cumsum(-1), **TOL)


def test_selective_scan_complex_A():
    """Complex modes: y = 2·Re(Σ_n c h), checked against a cmath loop; sequential == parallel."""
    g = gen(9)
    Bt, Dm, L, N = 1, 2, 5, 2
    u = torch.randn(Bt, Dm, L, generator=g, dtype=f64)
    delta = torch.rand(Bt, Dm, L, generator=g, dtype=f64)
    A = torch.complex(-torch.rand(Dm, N, generator=g, dtype=f64), torch.randn(Dm, N, generator=g, dtype=f64))
    B = torch.complex(torch.randn(Bt, N, L, generator=g, dtype=f64), torch.randn(Bt, N, L, generator=g, dtype=f64))
    C = torch.complex(torch.randn(Bt, N, L, generator=g, dtype=f64), torch.randn(Bt, N, L, generator=g, dtype=f64))
    ys = selective_scan(u, delta, A, B, C)
    yp = selective_scan(u, delta, A, B, C, method="parallel")
    torch.testing.assert_close(yp, ys, **TOL)
    assert ys.dtype == f64
    for d in range(Dm):
        h = [0j] * N
        for t in range(L):
            dt = delta[0, d, t].item()
            acc = 0j
            for n in range(N):
                h[n] = cmath.exp(dt * A[d, n].item()) * h[n] + dt * B[0, n, t].item() * u[0, d, t].item()
                acc += C[0, n, t].item() * h[n]
            assert ys[0, d, t].item() == pytest.approx(2 * acc.real, rel=1e-10, abs=1e-12)


def test_selective_scan_trace():
    u, delta, A, B, C, D, z, bias = scan_inputs()
    trace = Trace()
    out, last = selective_scan(u, delta, A, B, C, D=D, z=z, delta_bias=bias, delta_softplus=True,
                               trace=trace, return_last_state=True)
    steps = trace.of_kind("scan.step")
    assert len(steps) == 6
    for t, s in enumerate(steps):
        assert s.index == (t,) and s["h"].shape == (2, 4, 3)
        torch.testing.assert_close(s["y"], out[:, :, t], **TOL)
    torch.testing.assert_close(steps[-1]["h"], last, **TOL)
    # The trace shows the real recurrence: h_t = Ā_t h_{t−1} + B̄_t u_t.
    torch.testing.assert_close(steps[3]["h"], steps[3]["dA"] * steps[2]["h"] + steps[3]["dBu"], **TOL)
    _, exp_last = scan_oracle(u[:, :, :3], delta[:, :, :3], A, B[..., :3], C[..., :3], delta_bias=bias,
                              delta_softplus=True)
    torch.testing.assert_close(steps[2]["h"], exp_last, **TOL)


def test_parallel_scan_trace_levels():
    u, delta, A, B, C, *_ = scan_inputs(L=6)
    trace = []
    out = selective_scan(u, delta, A, B, C, method="parallel", trace=trace)
    assert [s["offset"] for s in trace] == [1, 2, 4]  # ceil(log2 6) doubling levels
    torch.testing.assert_close((trace[-1]["b"] * C.transpose(1, 2)[:, None]).sum(-1), out, **TOL)


def test_selective_scan_float32_roundtrip():
    u, delta, A, B, C, D, z, bias = scan_inputs()
    y32 = selective_scan(u.float(), delta.float(), A.float(), B.float(), C.float(), D=D.float(), z=z.float(),
                         delta_bias=bias.float(), delta_softplus=True)
    y64 = selective_scan(u, delta, A, B, C, D=D, z=z, delta_bias=bias, delta_softplus=True)
    assert y32.dtype == torch.float32
    torch.testing.assert_close(y32.double(), y64, atol=1e-5, rtol=1e-4)


def test_selective_scan_errors():
    u, delta, A, B, C, D, _z, _bias = scan_inputs()
    with pytest.raises(ValueError, match=r"B of 3 dims must be \(B, N, L\)"):
        selective_scan(u, delta, A, B[:, :2], C)  # d_state mismatch between A (D, N=3) and B
    with pytest.raises(ValueError, match="C"):
        selective_scan(u, delta, A, B, C[:, :, :4])
    with pytest.raises(ValueError, match="method"):
        selective_scan(u, delta, A, B, C, method="blelloch-gpu")
    with pytest.raises(ValueError, match="D must have shape"):
        selective_scan(u, delta, A, B, C, D=D[:2])
    with pytest.raises(ValueError, match="G dividing D"):
        selective_scan(u, delta, A, torch.randn(2, 3, 3, 6, dtype=f64), C)
    with pytest.raises(ValueError, match="delta"):
        selective_scan(u, delta[..., :3], A, B, C)
    with pytest.raises(ValueError, match="A must be"):
        selective_scan(u, delta, A[:3], B, C)


@settings(max_examples=15, deadline=None)
@given(L=st.integers(1, 17), N=st.integers(1, 4), seed=st.integers(0, 10_000))
def test_property_sequential_equals_parallel(L, N, seed):
    u, delta, A, B, C, D, z, bias = scan_inputs(Bt=1, Dm=2, L=L, N=N, seed=seed)
    kw = {"D": D, "z": z, "delta_bias": bias, "delta_softplus": True, "return_last_state": True}
    ys, hs = selective_scan(u, delta, A, B, C, **kw)
    yp, hp = selective_scan(u, delta, A, B, C, method="parallel", **kw)
    torch.testing.assert_close(yp, ys, **TOL)
    torch.testing.assert_close(hp, hs, **TOL)


# ------------------------------------------------------------------------------------------------
# Mamba-2 SSD
# ------------------------------------------------------------------------------------------------

def ssd_inputs(Bt=1, L=7, H=4, P=2, N=3, G=2, seed=0):
    g = gen(seed)
    x = torch.randn(Bt, L, H, P, generator=g, dtype=f64)
    dt = F.softplus(torch.randn(Bt, L, H, generator=g, dtype=f64))
    A = -torch.rand(H, generator=g, dtype=f64) - 0.1
    shape = (Bt, L, N) if G is None else (Bt, L, G, N)
    B = torch.randn(*shape, generator=g, dtype=f64)
    C = torch.randn(*shape, generator=g, dtype=f64)
    return x, dt, A, B, C


def ssd_oracle(x, dt, A, B, C):
    """y_t = Σ_{s≤t} C_t·B_s exp(Σ_{k=s+1}^{t} A Δ_k) Δ_s x_s, by plain loops (no recurrence, no matrices)."""
    Bt, L, H, P = x.shape
    y = torch.zeros_like(x)
    for b in range(Bt):
        for h in range(H):
            grp = h // (H // B.shape[2]) if B.dim() == 4 else None
            for t in range(L):
                for s in range(t + 1):
                    bs = B[b, s, grp] if grp is not None else B[b, s]
                    ct = C[b, t, grp] if grp is not None else C[b, t]
                    cb = sum(ct[n].item() * bs[n].item() for n in range(bs.shape[0]))
                    decay = math.exp(sum(A[h].item() * dt[b, k, h].item() for k in range(s + 1, t + 1)))
                    for p in range(P):
                        y[b, t, h, p] += cb * decay * dt[b, s, h].item() * x[b, s, h, p].item()
    return y


@pytest.mark.parametrize("G", [None, 1, 2])
def test_ssd_quadratic_matches_loop_oracle(G):
    x, dt, A, B, C = ssd_inputs(L=5, G=G)
    torch.testing.assert_close(ssd(x, dt, A, B, C, form="quadratic"), ssd_oracle(x, dt, A, B, C), **TOL)


@pytest.mark.parametrize("chunk", [1, 2, 3, 4, 7, 10])
def test_ssd_forms_agree(chunk):
    x, dt, A, B, C = ssd_inputs(Bt=2, L=7)
    yq, hq = ssd(x, dt, A, B, C, chunk, form="quadratic", return_final_state=True)
    yr, hr = ssd(x, dt, A, B, C, chunk, form="recurrent", return_final_state=True)
    yc, hc = ssd(x, dt, A, B, C, chunk, form="chunked", return_final_state=True)
    torch.testing.assert_close(yr, yq, **TOL)
    torch.testing.assert_close(yc, yq, **TOL)
    torch.testing.assert_close(hq, hr, **TOL)
    torch.testing.assert_close(hc, hr, **TOL)


def test_ssd_is_selective_scan_with_scalar_A():
    """Mamba-2 is S6 with A = a_h·I: channels (h, p), A repeated over N, Δ shared within a head."""
    x, dt, A, B, C = ssd_inputs(Bt=2, L=6, H=2, P=3, N=4, G=None)
    y = ssd(x, dt, A, B, C, 4)
    Bt, L, H, P = x.shape
    u = x.permute(0, 2, 3, 1).reshape(Bt, H * P, L)
    delta = dt.permute(0, 2, 1).repeat_interleave(P, dim=1)
    A_s6 = A.repeat_interleave(P)[:, None].expand(H * P, 4)
    y_s6 = selective_scan(u, delta, A_s6, B.transpose(1, 2), C.transpose(1, 2))
    torch.testing.assert_close(y.permute(0, 2, 3, 1).reshape(Bt, H * P, L), y_s6, **TOL)


def test_ssd_chunk_trace():
    x, dt, A, B, C = ssd_inputs(L=7)
    trace = Trace()
    y, final = ssd(x, dt, A, B, C, 3, trace=trace, return_final_state=True)
    steps = trace.of_kind("ssd.chunk")
    assert [s.index for s in steps] == [(0,), (1,), (2,)]
    torch.testing.assert_close(steps[-1]["state"], final, **TOL)
    torch.testing.assert_close(steps[-1]["y"], y[:, 6:], **TOL)
    torch.testing.assert_close(steps[1]["state_in"], steps[0]["state"], **TOL)
    # Chunk state = state after the first 3 tokens, computed by the recurrent form.
    _, h3 = ssd(x[:, :3], dt[:, :3], A, B[:, :3], C[:, :3], form="recurrent", return_final_state=True)
    torch.testing.assert_close(steps[0]["state"], h3, **TOL)


def test_segsum_values():
    a = torch.tensor([1.0, 2.0, 4.0], dtype=f64)
    inf = float("-inf")
    expected = torch.tensor([[0, inf, inf], [2, 0, inf], [6, 4, 0]], dtype=f64)
    torch.testing.assert_close(segsum(a), expected)


def test_ssd_errors():
    x, dt, A, B, C = ssd_inputs()
    with pytest.raises(ValueError, match="chunk"):
        ssd(x, dt, A, B, C, 0)
    with pytest.raises(ValueError, match="form"):
        ssd(x, dt, A, B, C, 4, form="dual")
    with pytest.raises(ValueError, match="G dividing H"):
        ssd(x, dt, A, torch.randn(1, 7, 3, 3, dtype=f64), torch.randn(1, 7, 3, 3, dtype=f64))
    with pytest.raises(ValueError, match="A must have shape"):
        ssd(x, dt, A[:2], B, C)
    with pytest.raises(ValueError, match="B and C"):
        ssd(x, dt, A, B, C[..., :2])


@settings(max_examples=12, deadline=None)
@given(L=st.integers(1, 12), chunk=st.integers(1, 14), seed=st.integers(0, 10_000))
def test_property_ssd_chunked_equals_recurrent(L, chunk, seed):
    x, dt, A, B, C = ssd_inputs(L=L, H=2, P=2, N=2, G=1, seed=seed)
    yc = ssd(x, dt, A, B, C, chunk)
    yr = ssd(x, dt, A, B, C, chunk, form="recurrent")
    torch.testing.assert_close(yc, yr, **TOL)
