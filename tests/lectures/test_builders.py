"""Every lecture's data builders, whatever the lecture: registered through the kit's ``@builder``, frozen
plain data, deterministic after ``cache_clear``, covering the lecture's topics; and the registry itself."""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import types
from pathlib import Path

import pytest

from scenes.course import COURSE
from scenes.kit import data_builders as db

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = sorted(p.parent for p in ROOT.glob("scenes/l[0-9][0-9]_*/data/__init__.py"))
"""Every lecture package that has a data package."""
LECTURES = {p.parent.name[1:3]: f"scenes.{p.parent.name}.data" for p in PACKAGES}


def _load(lecture: str) -> types.ModuleType:
    return importlib.import_module(LECTURES[lecture])


def _all_builders():
    out = []
    for lec in LECTURES:
        _load(lec)
        out += [(lec, fn) for fns in db.builders(lec).values() for fn in fns]
    return out


BUILDERS = _all_builders()


def _is_plain(x) -> bool:
    """Frozen plain data all the way down: frozen dataclasses, tuples, str, int, float, bool, None."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return x.__dataclass_params__.frozen and all(_is_plain(getattr(x, f.name)) for f in dataclasses.fields(x))
    if isinstance(x, tuple):
        return all(_is_plain(v) for v in x)
    return isinstance(x, (int, float, str, bool, type(None)))


def unregistered_functions(module: types.ModuleType, registered) -> list[str]:
    """Public functions defined in ``module`` that are not registered builders or shared inputs."""
    ids = {id(f) for f in registered}
    return [name for name, obj in vars(module).items()
            if not name.startswith("_") and callable(obj) and not inspect.isclass(obj)
            and getattr(obj, "__module__", None) == module.__name__ and id(obj) not in ids]


def _data_modules(lecture: str):
    """The topic modules of a lecture's data package (``_shared`` holds helpers and is left out)."""
    pkg = _load(lecture)
    return [importlib.import_module(f"{pkg.__name__}.{m.name}") for m in pkgutil.iter_modules(pkg.__path__)
            if not m.name.startswith("_")]


def test_there_is_a_lecture_with_data():
    assert "01" in LECTURES and BUILDERS


@pytest.mark.parametrize("lecture", sorted(LECTURES))
def test_builders_cover_every_topic_of_the_lecture(lecture):
    _load(lecture)
    topics = set(db.builders(lecture))
    assert set(COURSE.lecture(lecture).topic_ids) <= topics
    assert topics <= set(COURSE.lecture(lecture).topic_ids) | db.EXTRA_TOPICS


@pytest.mark.parametrize("lecture", sorted(LECTURES))
def test_every_public_function_of_a_data_module_is_registered(lecture):
    """A builder added without ``@builder`` would escape these tests and ``cache_clear``: none may."""
    registered = db.registered(lecture)
    for module in _data_modules(lecture):
        assert unregistered_functions(module, registered) == [], module.__name__


def test_an_unregistered_function_is_caught():
    module = types.ModuleType("scenes.l99_fake.data.topic")
    exec("def forgotten():\n    return 1\n\ndef _helper():\n    return 2\n", module.__dict__)
    module.forgotten.__module__ = module._helper.__module__ = module.__name__
    assert unregistered_functions(module, ()) == ["forgotten"]
    assert unregistered_functions(module, (module.forgotten,)) == []


@pytest.mark.parametrize("lecture,fn", BUILDERS, ids=[f"{lec}-{fn.__name__}" for lec, fn in BUILDERS])
def test_every_builder_returns_frozen_plain_data(lecture, fn):
    res = fn()
    items = res if isinstance(res, tuple) else (res,)
    for item in items:
        assert dataclasses.is_dataclass(item), fn.__name__
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(item, dataclasses.fields(item)[0].name, None)
        assert _is_plain(item), fn.__name__


@pytest.mark.parametrize("lecture", sorted(LECTURES))
def test_deterministic_after_cache_clear(lecture):
    pkg = _load(lecture)
    fns = [fn for fns in db.builders(lecture).values() for fn in fns]
    first = {fn.__name__: fn() for fn in fns}
    pkg.cache_clear()
    assert all(f.cache_info().currsize == 0 for f in db.registered(lecture))  # shared inputs too
    again = {fn.__name__: fn() for fn in fns}
    for name, value in first.items():
        assert value is not again[name], name  # really recomputed
        assert repr(value) == repr(again[name]), name  # repr also compares NaN entries


# ------------------------------------------------------------------------------------------ the registry


@pytest.fixture
def registry(monkeypatch):
    """An empty registry for the duration of a test."""
    monkeypatch.setattr(db, "_REGISTRY", {})
    return db


def test_registry_lists_caches_and_clears(registry):
    calls = []

    @registry.shared_input(lecture="98")
    def base():
        calls.append("base")
        return 2

    @registry.builder("L98.2", lecture="98")
    def second():
        return base() * 10

    @registry.builder("L98.1", lecture="98")
    def first():
        calls.append("first")
        return [base()]

    assert registry.builders("98") == {"L98.1": (first,), "L98.2": (second,)}  # outline order
    assert set(registry.registered("L98")) == {first, second, base}
    assert first() is first() and second() == 20 and calls == ["first", "base"]
    registry.cache_clear(98)
    assert first() == [2] and calls == ["first", "base", "first", "base"]
    assert (first.topic, first.lecture, base.topic) == ("L98.1", "98", None)


def test_lecture_comes_from_the_module_path(registry):
    assert registry.lecture_of("scenes.l07_sparse.data.windows") == "07"
    assert registry.lecture_of("scenes.l12_moe.data") == "12"
    with pytest.raises(ValueError, match="cannot tell the lecture"):
        registry.lecture_of("scenes.kit.gallery")

    def orphan():
        return 1

    with pytest.raises(ValueError, match="cannot tell the lecture"):
        registry.builder("L01.1")(orphan)


@pytest.mark.parametrize("topic", ["L1.5", "l01.5", "L01", "01.5", "Recap", "", None])
def test_bad_topic_ids_are_refused(registry, topic):
    with pytest.raises(ValueError, match="unknown topic id"):
        registry.builder(topic)


def test_clear_errors(registry):
    def mine():
        return 1

    with pytest.raises(ValueError, match="does not belong to lecture 98"):
        registry.builder("L01.1", lecture="98")(mine)

    def takes(x):
        return x

    with pytest.raises(TypeError, match="takes no arguments"):
        registry.builder("L98.1", lecture="98")(takes)
    with pytest.raises(KeyError, match="no data builders registered for lecture 97"):
        registry.builders("97")
    with pytest.raises(ValueError, match="not a lecture id"):
        registry.builders("one")

    registry.builder("L98.1", lecture="98")(mine)
    twin = types.FunctionType(mine.__code__, {}, "mine")  # same name, another module
    twin.__module__ = "scenes.l98_other.data.topic"
    with pytest.raises(ValueError, match="registered twice"):
        registry.builder("L98.2", lecture="98")(twin)


def test_reimporting_a_module_replaces_its_builders(registry):
    def again():
        return 1

    registry.builder("L98.1", lecture="98")(again)
    registry.builder("L98.1", lecture="98")(again)  # the same module.function: importlib.reload
    assert len(registry.builders("98")["L98.1"]) == 1
