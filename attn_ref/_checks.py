"""Input validation shared by every module: errors name the argument, what it got, what was expected."""
from __future__ import annotations

import math

import torch


def check_tensor(name: str, x, ndim: int | None = None) -> torch.Tensor:
    """Raise TypeError unless ``x`` is a tensor (with ``ndim`` dimensions when given)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if ndim is not None and x.dim() != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(x.shape)}")
    return x


def check_positive_int(name: str, value, allow_none: bool = False):
    """Raise unless ``value`` is an int > 0 (or None when allowed)."""
    if value is None and allow_none:
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def check_same(name_a: str, a, name_b: str, b, what: str) -> None:
    """Raise ValueError when two attributes (dtype, device, size) differ."""
    if a != b:
        raise ValueError(f"{name_a} and {name_b} must have the same {what}, got {a} and {b}")


def check_choice(name: str, value, choices) -> None:
    """Raise ValueError unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(map(str, choices))}, got {value!r}")


def check_scale(scale, name: str = "scale"):
    """Return ``scale`` as a float (None stays None); raise unless it is a finite real number.

    NaN or ±inf would make every score NaN or ±inf (all-NaN output); 0 and negative values are a
    well-defined (if unusual) temperature and are accepted.
    """
    if scale is None:
        return None
    if isinstance(scale, bool) or not isinstance(scale, (int, float)):
        raise TypeError(f"{name} must be a number or None, got {type(scale).__name__}")
    if not math.isfinite(scale):
        raise ValueError(f"{name} must be finite, got {scale!r}")
    return float(scale)


def check_floating(name: str, x: torch.Tensor) -> torch.Tensor:
    """Raise TypeError unless the tensor ``x`` has a floating-point dtype."""
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    return x
