"""Equality, repr and hash for record classes, written once instead of generated per class.

On Python 3.11 `@dataclass` compiles every method it writes, one `exec` each: about 60 µs
a method, so a frozen record with `__eq__`, `__repr__` and `__hash__` beside `__init__`
costs ~0.35 ms to define, and `opsdesk incident list` defines some sixty record and config
classes before it reads a row. A record declared

    @dataclass(eq=False, repr=False)          # or frozen=True, eq=False, repr=False
    class Thing(Value):                       # or FrozenValue
        ...

gets only its `__init__` (and a frozen one its two guards) compiled, and inherits these
methods, which read the same dataclass fields and behave as the generated ones do:
equal when the classes are the same and every compared field is equal (otherwise
`NotImplemented`), a repr of `Class(field=value, ...)` that survives cycles, a mutable
record unhashable and a frozen one hashed by its compared fields.
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from typing import Any

_GETTERS: dict[tuple[type, str], Callable[[Any], tuple[Any, ...]]] = {}


def _values(record: Any, purpose: str) -> tuple[Any, ...]:
    """The record's values of the fields that count for `purpose` ("compare" or "hash"),
    in field order; which fields those are is worked out once per class."""
    key = (record.__class__, purpose)
    getter = _GETTERS.get(key)
    if getter is None:
        names = tuple(f.name for f in dataclasses.fields(record) if _counts(f, purpose))
        getter = _GETTERS[key] = lambda r: tuple(getattr(r, name) for name in names)
    return getter(record)


def _counts(field: dataclasses.Field[Any], purpose: str) -> bool:
    if purpose == "hash":  # as dataclass decides: `hash=None` follows `compare`
        return field.compare if field.hash is None else bool(field.hash)
    return field.compare


class Value:
    """Base of a mutable record (`@dataclass(eq=False, repr=False)`): unhashable, as a
    mutable dataclass with `eq=True` is."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return _values(self, "compare") == _values(other, "compare")

    __hash__ = None  # type: ignore[assignment]

    @reprlib.recursive_repr()
    def __repr__(self) -> str:
        fields = dataclasses.fields(self)  # type: ignore[arg-type]
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields if f.repr)
        return f"{self.__class__.__qualname__}({shown})"


class FrozenValue(Value):
    """Base of a frozen record (`@dataclass(frozen=True, eq=False, repr=False)`): hashed
    by its compared fields, as a frozen dataclass is."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(_values(self, "hash"))
