"""Records built on `store.value` (equality, repr and hash written once) behave exactly as
the methods `@dataclass` would have generated for them: the config, the store's records
and the sessions compare, print and hash as before."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import pytest

from opsdesk.console.config.model import Config, Person, Schedule
from opsdesk.store.records import Actor, Incident
from opsdesk.store.value import FrozenValue, Value


@dataclass(eq=False, repr=False)
class Mutable(Value):
    name: str
    tags: list[str] = field(default_factory=list)
    note: str = field(default="", compare=False, repr=False)


@dataclass
class MutableGenerated:
    name: str
    tags: list[str] = field(default_factory=list)
    note: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True, eq=False, repr=False)
class Frozen(FrozenValue):
    name: str
    level: int = 0
    cached: int = field(default=0, hash=False)


@dataclass(frozen=True)
class FrozenGenerated:
    name: str
    level: int = 0
    cached: int = field(default=0, hash=False)


def same_repr(ours: Any, generated: Any) -> bool:
    return repr(ours).split("(", 1)[1] == repr(generated).split("(", 1)[1]


def test_equality_repr_and_hash_match_what_dataclass_generates() -> None:
    a, b = Mutable("db", ["x"], note="one"), Mutable("db", ["x"], note="two")
    ga, gb = MutableGenerated("db", ["x"], note="one"), MutableGenerated("db", ["x"], note="two")
    assert (a == b) == (ga == gb) is True  # `note` is not compared
    assert (a != Mutable("web")) == (ga != MutableGenerated("web")) is True
    assert a.__eq__(ga) is NotImplemented  # another class is never equal
    assert a != ga
    assert same_repr(a, ga) and repr(a) == "Mutable(name='db', tags=['x'])"
    with pytest.raises(TypeError, match="unhashable"):
        hash(a)
    with pytest.raises(TypeError, match="unhashable"):
        hash(ga)

    f, g = Frozen("p", 1, cached=5), FrozenGenerated("p", 1, cached=5)
    assert f == Frozen("p", 1, cached=5) and g == FrozenGenerated("p", 1, cached=5)
    assert (f != Frozen("p", 1, cached=9)) == (g != FrozenGenerated("p", 1, cached=9)) is True
    assert f != Frozen("p", 2)
    assert hash(f) == hash(Frozen("p", 1, cached=7)) == hash(("p", 1)) == hash(g)  # hash=False
    assert same_repr(f, g)
    assert {f, Frozen("p", 1, cached=5)} == {f}
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.level = 3  # type: ignore[misc]


def test_a_record_that_contains_itself_still_prints() -> None:
    loop = Mutable("loop")
    loop.tags.append(loop)  # type: ignore[arg-type]
    assert repr(loop) == "Mutable(name='loop', tags=[...])"


def test_the_config_and_the_store_records_compare_by_value() -> None:
    assert Config() == Config()
    assert Person(login="ana") == Person(login="ana") != Person(login="bo")
    assert Schedule("primary", "UTC") != Schedule("secondary", "UTC")
    assert repr(Person(login="ana")).startswith("Person(login='ana', ")
    assert Actor("ana", frozenset({"lead"})) == Actor("ana", frozenset({"lead"}))
    assert len({Actor("ana", frozenset()), Actor("ana", frozenset())}) == 1
    fields = {f.name for f in dataclasses.fields(Incident)}
    assert "title" in fields  # still a dataclass: fields(), replace() and asdict() work


QUICK_PATH_MODULES = (
    "opsdesk.console.config.model", "opsdesk.console.config.loader",
    "opsdesk.console.config.schema", "opsdesk.console.config.trust",
    "opsdesk.console.domain.sla", "opsdesk.console.ops.session",
    "opsdesk.console.ops.incidents", "opsdesk.console.cli.listing", "opsdesk.store.location", "opsdesk.store.records",
    "opsdesk.store.audit_records", "opsdesk.store.banner_records",
    "opsdesk.store.change_records", "opsdesk.store.notification_records",
    "opsdesk.store.oncall_records", "opsdesk.store.problem_records",
    "opsdesk.store.review_records", "opsdesk.store.status_records",
)  # fmt: skip


def generated_methods(module_name: str) -> list[str]:
    """Record classes of a module on every command's path that had `__eq__`, `__repr__` or
    `__hash__` compiled for them (~60 µs each at start-up) instead of inheriting Value's."""
    import importlib
    import inspect

    module = importlib.import_module(module_name)
    found = []
    for name, cls in inspect.getmembers(module, inspect.isclass):
        if cls.__module__ != module_name or not dataclasses.is_dataclass(cls):
            continue
        own = [m for m in ("__eq__", "__repr__", "__hash__") if m in vars(cls)]
        if own or not issubclass(cls, Value):
            found.append(f"{name}: {', '.join(own) or 'not a Value'}")
    return found


@pytest.mark.parametrize("module_name", QUICK_PATH_MODULES)
def test_records_on_the_start_up_path_inherit_their_methods(module_name: str) -> None:
    assert generated_methods(module_name) == []


def test_the_start_up_check_sees_a_generated_method() -> None:
    import sys
    import types

    module = types.ModuleType("opsdesk_probe_records")

    @dataclass(frozen=True)
    class Plain:
        name: str

    Plain.__module__ = module.__name__
    module.Plain = Plain  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    try:
        assert generated_methods(module.__name__) == ["Plain: __eq__, __repr__, __hash__"]
    finally:
        del sys.modules[module.__name__]
