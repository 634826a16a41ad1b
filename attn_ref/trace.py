"""One trace protocol for every algorithm the lectures animate.

An algorithm that accepts ``trace=`` calls :func:`emit` once per step. ``trace`` may be ``None``
(no tracing, no cost), a list (steps are appended), a :class:`Trace`, or any callable taking a
:class:`TraceStep`. Tensors in a step are detached clones, so later steps cannot change earlier ones.
The last step of a trace carries the algorithm's final state, and tests check it equals the output.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch


@dataclass
class TraceStep:
    """One step of an algorithm: ``kind`` names the step (e.g. ``"flash.block"``), ``index`` locates
    it (block or token indices), ``state`` holds the values at that step (tensors or numbers)."""

    kind: str
    index: tuple = ()
    state: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.state[key]


class Trace(list):
    """A list of :class:`TraceStep` with a filter by kind."""

    def of_kind(self, kind: str) -> list[TraceStep]:
        return [s for s in self if s.kind == kind]


def _snapshot(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    return value


def emit(trace: list | Callable[[TraceStep], Any] | None, kind: str, index: tuple = (), **state: Any) -> None:
    """Record one step into ``trace`` (no-op when ``trace`` is None)."""
    if trace is None:
        return
    step = TraceStep(kind, tuple(index), {k: _snapshot(v) for k, v in state.items()})
    if isinstance(trace, list):
        trace.append(step)
    elif callable(trace):
        trace(step)
    else:
        raise TypeError(f"trace must be None, a list or a callable, got {type(trace).__name__}")
