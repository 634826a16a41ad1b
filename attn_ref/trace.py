"""One trace protocol for every algorithm the lectures animate.

An algorithm that accepts ``trace=`` calls :func:`emit` once per step. ``trace`` may be ``None``
(no tracing, no cost), a list (steps are appended), a :class:`Trace`, or any callable taking a
:class:`TraceStep`. Tensors in a step are detached clones, so later steps cannot change earlier ones.
The last step of a trace carries the algorithm's final state, and tests check it equals the output
(tests/attn_ref/test_traces.py, one test per kind below).

Kinds, their emitters and fields (tensors unless noted; shapes in each emitter's docstring):

=======================  ================================  ========  ============================================
kind                     emitted by                        index     fields
=======================  ================================  ========  ============================================
``flash.step``           ``flash_attention``, per tile     (i, j)    m, l, O, S, P, rows, cols (tuples)
``flash.final``          ``flash_attention``, last         ()        O, lse
``flash_decoding.split`` ``flash_decoding``, per split     (s,)      O_s, lse_s, cols (tuple)
``flash_decoding.merge`` ``flash_decoding``, last          ()        O, lse, weights (= exp(lse_s − lse))
``decode.step``          ``generate``, per new token       (t,)      cache_len, context_len (ints); query, keys,
                                                                     values, weights (every layer, newest
                                                                     position); logits, probs, token
``mha.forward``          ``MultiHeadAttention``; through   () or     q, k, v, weights, output
                         ``TinyDecoder`` with the layer    (layer,)
``linear.step``          ``linear_attention`` recurrent    (t,)      S, z, y (y only when causal)
``linear.output``        same, non-causal, last            ()        S, z, y
``linear.chunk``         ``linear_attention`` chunked      (c,)      S, z, y (y only when causal)
``scan.step``            ``selective_scan`` sequential     (t,)      h, y, dA, dBu
``scan.level``           ``selective_scan`` parallel       (level,)  offset (int), a, b
``ssd.step``             ``ssd`` recurrent                 (t,)      h, y
``ssd.chunk``            ``ssd`` chunked                   (c,)      state_in, chunk_state, decay, state, y
``moe.route``            ``MixtureOfAttentionHeads`` ();   () or     logits, probs, expert_index, gates, dropped,
                         ``SwitchHeadAttention`` ("v",),   (str,)    capacity (int or None)
                         ("o",)
``moe.output``           both MoE layers, last             ()        output
``diff.layer``           ``DifferentialAttention``         (depth,)  attn1, attn2, lambda, lambda_init (float),
                                                                     diff, output
``mla.step``             ``MultiHeadLatentAttention``      (start,)  mode (str), c_KV, k_R, q_C, q_R, scores,
                                                                     weights, heads, output; naive adds K, V;
                                                                     absorbed adds q_absorbed, o_latent
=======================  ================================  ========  ============================================

Field-name conventions: ``S``/``scores`` are scaled logits (masked entries -inf), ``P``/``weights`` are
softmax probabilities, ``O``/``output``/``y`` the result, ``lse`` a natural-log log-sum-exp, ``h``/``S``/``state``
a recurrent state, ``rows``/``cols`` half-open index ranges.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any

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
