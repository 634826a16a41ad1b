"""L01.6 Softmax and scaling: softmax step by step, temperature, the measured variance and saturation,
the stable softmax and the rounded sums the scene shows, and the scene's dry run."""
from __future__ import annotations

import math

import pytest
import torch

import attn_ref as ar
from scenes.l01_fundamentals import data as d
from scenes.l01_fundamentals.data.softmax_scaling import _jacobian_frobenius

from ._helpers import (T, assert_one_topic_section, assert_rows_sum_to_one_shown, assert_scene_constructs,
                       typed_data_numbers)

FILE, SCENE, TOPIC = "l01_softmax_scaling.py", "SoftmaxScaling", "L01.6"


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs(SCENE)


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section(FILE, TOPIC)


def test_scene_file_types_no_data_numbers():
    leaked = typed_data_numbers(FILE)
    assert not leaked, f"{FILE} types data numbers: {leaked}"


# ------------------------------------------------------------------------------------------ data


def test_softmax_walkthrough_and_temperature():
    sw = d.softmax_walkthrough()
    assert math.isclose(sum(sw.exps), sw.total, rel_tol=1e-12)
    assert torch.allclose(T(sw.exps) / sw.total, T(sw.weights), atol=1e-12)
    assert torch.allclose(T(sw.weights), torch.softmax(T(sw.scores), -1), atol=1e-12)
    assert_rows_sum_to_one_shown([sw.weights_shown])
    tr = d.temperature_rows()
    assert tr.temperatures == (0.5, 1.0, 2.0, 5.0) and tr.scores == sw.scores
    assert tr.weights[1] == sw.weights
    for t, row in zip(tr.temperatures, tr.weights, strict=True):
        assert torch.allclose(T(row), torch.softmax(T(tr.scores) / t, -1), atol=1e-12)
    assert_rows_sum_to_one_shown(tr.weights_shown)
    assert list(tr.max_weight) == sorted(tr.max_weight, reverse=True)  # higher T, flatter
    assert list(tr.entropy) == sorted(tr.entropy)


def test_dot_product_variance():
    v = d.dot_product_variance()
    assert v.d_k == (4, 16, 64, 256, 1024) and v.samples == 20_000
    for dk, var, var_s in zip(v.d_k, v.measured, v.measured_scaled, strict=True):
        assert abs(var / dk - 1) < 0.05
        assert abs(var_s - 1) < 0.05
        assert math.isclose(var_s, var / dk, rel_tol=1e-9)


def test_saturation():
    s = d.saturation()
    assert list(s.max_weight_unscaled) == sorted(s.max_weight_unscaled)  # saturates as d_k grows
    assert s.max_weight_unscaled[-1] > 0.95
    assert list(s.jacobian_norm_unscaled) == sorted(s.jacobian_norm_unscaled, reverse=True)
    assert s.jacobian_norm_unscaled[-1] < 0.2 * s.jacobian_norm_scaled[-1]
    assert max(s.max_weight_scaled) - min(s.max_weight_scaled) < 0.05  # scaled: stable
    assert max(s.jacobian_norm_scaled) / min(s.jacobian_norm_scaled) < 1.1
    n = s.n_keys
    assert math.isclose(s.jacobian_norm_uniform, math.sqrt(n - 1) / n, rel_tol=1e-12)
    # the autograd Jacobian is diag(p) − p pᵀ
    x = torch.tensor([[0.3, -1.2, 2.0, 0.1, 0.0, 0.5, -0.4, 1.1]], dtype=torch.float64)
    p = torch.softmax(x, -1)[0]
    assert math.isclose(_jacobian_frobenius(x).item(), (torch.diag(p) - torch.outer(p, p)).norm().item(),
                        rel_tol=1e-12)


def test_stable_softmax():
    st = d.stable_softmax_demo()
    assert not any(math.isfinite(v) for v in st.naive_exps)
    assert all(math.isnan(v) for v in st.naive_weights)
    assert not math.isfinite(st.naive_total)
    assert all(v > st.overflow_threshold for v in st.scores)
    assert st.shifted == (-2.0, -1.0, 0.0)
    assert all(math.isfinite(v) for v in st.weights + st.weights_float32)
    ref = torch.softmax(torch.tensor(st.scores, dtype=torch.float64), -1)
    assert torch.allclose(T(st.weights), ref, atol=1e-15) and T(st.reference).equal(ref)
    assert torch.allclose(T(st.weights_float32), ref, atol=1e-6)
    assert torch.allclose(T(st.shifted_exps) / st.shifted_total, ref, atol=1e-15)
    assert_rows_sum_to_one_shown([st.weights_shown])


def test_softmax_extra_adds_up():
    sw, st, x = d.softmax_walkthrough(), d.stable_softmax_demo(), d.softmax_extra()
    shifted = torch.exp(T(st.scores) - max(st.scores))
    for shown, exact, total in ((x.exps_shown, torch.exp(T(sw.scores)), x.total_shown),
                                (x.shifted_exps_shown, shifted, x.shifted_total_shown)):
        shown = T(shown)
        assert (shown - exact).abs().max() < 0.01 + 1e-9
        assert shown.sum().item() == pytest.approx(total, abs=1e-9)
        assert total == pytest.approx(round(exact.sum().item(), 2), abs=1e-9)
    # exp, sum, divide is the library's softmax
    assert torch.allclose(torch.exp(T(sw.scores)) / torch.exp(T(sw.scores)).sum(), ar.softmax(T(sw.scores)))
