"""One registry for every lecture's data builders: topic id, caching and cache clearing.

A lecture's data package (``scenes/lNN_<slug>/data/``) declares each builder with its topic::

    @builder("L01.5")
    def dot_product_walkthrough() -> DotProductWalkthrough: ...

    @shared_input
    def projection_seed() -> int: ...        # cached input several builders share (no topic)

Both decorators cache the function (``functools.cache``) and register it under the lecture its module
belongs to (``scenes.l01_fundamentals.data.qkv`` -> ``"01"``; pass ``lecture=`` for a module elsewhere).
``builders("01")`` lists the builders by topic, ``cache_clear("01")`` forgets every cached result of the
lecture, builders and shared inputs alike, and the generic tests (tests/lectures/test_builders.py) check
every registered builder: frozen plain data, deterministic after ``cache_clear``. Builders take no
arguments. Pure Python (no manim).
"""
from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["builder", "builders", "cache_clear", "lecture_of", "registered", "shared_input"]

TOPIC_RE = re.compile(r"^L(\d{2})\.(\d+)$")
"""A topic id as the outline writes it: ``L01.5``."""
EXTRA_TOPICS = frozenset({"recap"})
"""Topic ids that are no outline topic (the recap and references card)."""
_MODULE_RE = re.compile(r"^scenes\.l(\d{2})_[a-z0-9_]+\.data(?:\.|$)")


@dataclass
class _Lecture:
    topics: dict[str, list[Callable]] = field(default_factory=dict)  # topic -> builders, in registration order
    shared: list[Callable] = field(default_factory=list)
    names: dict[str, Callable] = field(default_factory=dict)  # function name -> registered function


_REGISTRY: dict[str, _Lecture] = {}


def _normalize(lecture: str | int) -> str:
    """``"01"``, ``"1"``, ``1`` or ``"L01"`` -> ``"01"``."""
    k = str(lecture).strip().upper().removeprefix("L")
    if not k.isdigit():
        raise ValueError(f"not a lecture id: {lecture!r} (expected e.g. '01')")
    return f"{int(k):02d}"


def lecture_of(module: str) -> str:
    """The lecture a data module belongs to: ``scenes.l01_fundamentals.data.qkv`` -> ``"01"``."""
    m = _MODULE_RE.match(module)
    if not m:
        raise ValueError(f"cannot tell the lecture of module {module!r}: data modules live in "
                         f"scenes.lNN_<slug>.data (or pass lecture=)")
    return m.group(1)


def _register(fn: Callable, lecture: str | None, topic: str | None) -> Callable:
    if not callable(fn):
        raise TypeError(f"a data builder must be a function, got {fn!r}")
    required = [p.name for p in inspect.signature(fn).parameters.values()
                if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if required:
        raise TypeError(f"data builder {fn.__qualname__} takes no arguments (it has {', '.join(required)})")
    lec = _normalize(lecture) if lecture is not None else lecture_of(fn.__module__)
    if topic is not None and topic not in EXTRA_TOPICS and TOPIC_RE.match(topic).group(1) != lec:
        raise ValueError(f"builder {fn.__qualname__}: topic {topic} does not belong to lecture {lec}")
    entry = _REGISTRY.setdefault(lec, _Lecture())
    old = entry.names.get(fn.__name__)
    if old is not None:
        if (old.__module__, old.__qualname__) != (fn.__module__, fn.__qualname__):
            raise ValueError(f"lecture {lec}: a data builder named {fn.__name__!r} is registered twice "
                             f"({old.__module__} and {fn.__module__}); names must be unique in a lecture")
        _unregister(entry, old)  # the same module imported again (importlib.reload): replace it
    cached = functools.cache(fn)
    cached.topic = topic
    cached.lecture = lec
    entry.names[fn.__name__] = cached
    if topic is None:
        entry.shared.append(cached)
    else:
        entry.topics.setdefault(topic, []).append(cached)
    return cached


def _unregister(entry: _Lecture, fn: Callable) -> None:
    if fn in entry.shared:
        entry.shared.remove(fn)
    for fns in entry.topics.values():
        if fn in fns:
            fns.remove(fn)


def builder(topic: str, *, lecture: str | None = None) -> Callable[[Callable], Callable]:
    """Register (and cache) a lecture's data builder under ``topic`` (``"L01.5"`` or ``"recap"``)."""
    if not isinstance(topic, str) or not (TOPIC_RE.match(topic) or topic in EXTRA_TOPICS):
        raise ValueError(f"unknown topic id {topic!r}: expected one like 'L01.5' or one of {sorted(EXTRA_TOPICS)}")
    return lambda fn: _register(fn, lecture, topic)


def shared_input(fn: Callable | None = None, *, lecture: str | None = None):
    """Register (and cache) an input several builders share: no topic, but cleared with the lecture.
    Use bare (``@shared_input``) or with ``lecture=``."""
    if fn is None:
        return lambda f: _register(f, lecture, None)
    return _register(fn, lecture, None)


def _entry(lecture: str | int) -> _Lecture:
    lec = _normalize(lecture)
    if lec not in _REGISTRY:
        raise KeyError(f"no data builders registered for lecture {lec} (import its data package first; "
                       f"registered: {', '.join(sorted(_REGISTRY)) or 'none'})")
    return _REGISTRY[lec]


def builders(lecture: str | int) -> dict[str, tuple[Callable, ...]]:
    """Topic id -> the lecture's builders for it (outline order, then ``recap``; builders in registration
    order; shared inputs left out)."""
    topics = _entry(lecture).topics
    order = sorted(topics, key=lambda t: (0, int(TOPIC_RE.match(t).group(2))) if TOPIC_RE.match(t) else (1, t))
    return {t: tuple(topics[t]) for t in order if topics[t]}


def registered(lecture: str | int) -> tuple[Callable, ...]:
    """Every registered function of the lecture: its builders, then its shared inputs."""
    e = _entry(lecture)
    return (*(f for fns in e.topics.values() for f in fns), *e.shared)


def cache_clear(lecture: str | int) -> None:
    """Forget every cached result of the lecture, builders and shared inputs alike."""
    for fn in registered(lecture):
        fn.cache_clear()
