"""The kit's tensor ⇄ plain-value helpers the lectures' data packages share."""
import torch

from scenes.kit.tensors import as_tensor, gaussian, to_tuple


def test_round_trip_keeps_exact_float64_values():
    x = torch.tensor([[0.1, -2.5], [3.0, 1e-9]], dtype=torch.float64)
    t = to_tuple(x)
    assert t == ((0.1, -2.5), (3.0, 1e-9)) and isinstance(t[0], tuple)
    assert torch.equal(as_tensor(t), x) and as_tensor(t).dtype == torch.float64
    assert to_tuple(torch.tensor(2.5)) == 2.5 and to_tuple(torch.tensor([True, False])) == (True, False)


def test_gaussian_is_seeded_scaled_and_rounded():
    a, b = gaussian((3, 4), 7, 0.5), gaussian((3, 4), 7, 0.5)
    assert torch.equal(a, b) and not torch.equal(a, gaussian((3, 4), 8, 0.5))
    assert torch.allclose(a * 100, torch.round(a * 100), atol=1e-9, rtol=0)
    g = torch.Generator().manual_seed(7)
    assert torch.allclose(a, torch.randn(3, 4, generator=g, dtype=torch.float64) * 0.5, atol=0.005 + 1e-12, rtol=0)
