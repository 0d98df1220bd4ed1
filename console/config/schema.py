"""Build typed config records from parsed TOML, with errors that name the key.

Config sections are plain dataclasses; this module walks their type hints and turns
TOML values into them. Each mistake becomes a `SchemaError` carrying the key path and
what was expected, which `console.config` turns into one line naming the file. The
same declarations drive `to_data`, which writes a record back as TOML-ready data.
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from opsdesk.store.value import FrozenValue

Path = tuple[str | int, ...]


class SchemaError(ValueError):
    """A value does not fit the schema; `path` locates it, `reason` says what was expected."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{format_path(path)}: {reason}")
        self.path = path
        self.reason = reason


class SchemaErrors(SchemaError):
    """Several mistakes found in one pass, in the order of the data; the first one is the
    error's own path and reason."""

    def __init__(self, errors: list[SchemaError]) -> None:
        super().__init__(errors[0].path, errors[0].reason)
        self.errors = errors


def each_error(error: SchemaError) -> list[SchemaError]:
    """The single mistakes in `error` (itself, or those a SchemaErrors holds)."""
    if isinstance(error, SchemaErrors):
        return [single for inner in error.errors for single in each_error(inner)]
    return [error]


def _raise_any(errors: list[SchemaError]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise SchemaErrors(errors)


@dataclass(frozen=True, eq=False, repr=False)
class Parser(FrozenValue):
    """Annotated metadata: how to read a value from TOML and how to write it back."""

    parse: Callable[[Any], Any]
    dump: Callable[[Any], Any] = lambda value: value


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


NAME_KEYS = ("login", "name", "service")  # what a [[table]] entry is called by

# A field whose metadata says `"kind": "name"` (a login, a service, vendor, source or
# schedule name, ...) is what other sections, CLI arguments and the store refer to, and
# it is drawn on every screen: it may hold no control characters (C0, DEL, C1, line and
# paragraph separators, bidi controls) and no space around it.
NAME_KIND = "name"
_NAME_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def name_problem(value: str) -> str | None:
    """Why `value` cannot be a name (a config entry's, or a CLI argument naming one), or
    None when it can."""
    found = _NAME_CONTROLS.search(value)
    if found:
        return f"control characters are not allowed (U+{ord(found.group()):04X})"
    if value != value.strip():
        return "leading or trailing whitespace is not allowed"
    return None


def format_path(path: Path, data: Any = None) -> str:
    """Render ("people", 2, "timezone") as "people[3].timezone" (entries count from 1),
    or, given the raw `data`, as 'people[3 "ana"].timezone' when the entry has a name.
    Keys that are not bare TOML keys are quoted, so odd keys cannot break the line."""
    out = ""
    for part in path:
        data = _child(data, part)
        if isinstance(part, int):
            name = next((data[k] for k in NAME_KEYS if isinstance(data, dict) and k in data), None)
            label = f" {json.dumps(name[:40])}" if isinstance(name, str) else ""
            out += f"[{part + 1}{label}]"
        else:
            name = part if _BARE_KEY.fullmatch(part) else json.dumps(part)
            out += f".{name}" if out else name
    return out or "(top level)"


def _child(data: Any, part: str | int) -> Any:
    if isinstance(part, int) and isinstance(data, list) and part < len(data):
        return data[part]
    if isinstance(part, str) and isinstance(data, dict):
        return data.get(part)
    return None


def toml_key(field: dataclasses.Field[Any]) -> str:
    """The key a field is written under in TOML (a field may rename itself, e.g. `from`)."""
    return str(field.metadata.get("key", field.name))


def suggest(word: str, choices: typing.Iterable[str]) -> str:
    """' (did you mean "x"?)' when a close match exists, else ''."""
    import difflib  # only for a mistake

    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {json.dumps(match[0])}?)" if match else ""


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 60 else f"{value[:57]}...")
    return f"{type(value).__name__} {value!r}"


def build(kind: Any, value: Any, path: Path = ()) -> Any:
    """Convert `value` (parsed TOML) into `kind`, raising SchemaError for a mistake
    (SchemaErrors when there are several: every key is checked, not only the first)."""
    origin = typing.get_origin(kind)
    if origin is typing.Annotated:
        base, *extras = typing.get_args(kind)
        parser = next((e for e in extras if isinstance(e, Parser)), None)
        if parser is None:
            return build(base, value, path)
        try:
            return parser.parse(value)
        except (ValueError, TypeError) as exc:
            raise SchemaError(path, str(exc)) from None
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        if value is None and len(options) < len(typing.get_args(kind)):
            return None
        if len(options) == 1:
            return build(options[0], value, path)
        raise TypeError(f"unsupported union {kind!r}")
    if origin is Literal:
        allowed = [str(a) for a in typing.get_args(kind)]
        if value in typing.get_args(kind):
            return value
        got = _describe(value)
        hint = suggest(value, allowed) if isinstance(value, str) else ""
        raise SchemaError(path, f"expected one of {', '.join(allowed)}; got {got}{hint}")
    if origin is list:
        (item,) = typing.get_args(kind)
        if not isinstance(value, list):
            raise SchemaError(path, f"expected an array, got {_describe(value)}")
        items: list[Any] = []
        errors: list[SchemaError] = []
        for i, v in enumerate(value):
            try:
                items.append(build(item, v, (*path, i)))
            except SchemaError as exc:
                errors += each_error(exc)
        _raise_any(errors)
        return items
    if origin is dict:
        key_kind, item = typing.get_args(kind)
        if not isinstance(value, dict):
            raise SchemaError(path, f"expected a table, got {_describe(value)}")
        table: dict[Any, Any] = {}
        errors = []
        for k, v in value.items():
            try:
                table[build(key_kind, k, (*path, str(k)))] = build(item, v, (*path, str(k)))
            except SchemaError as exc:
                errors += each_error(exc)
        _raise_any(errors)
        return table
    if dataclasses.is_dataclass(kind):
        return _build_record(kind, value, path)
    return _build_scalar(kind, value, path)


def _build_scalar(kind: Any, value: Any, path: Path) -> Any:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind in names:
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value
        raise SchemaError(path, f"expected {names[kind]}, got {_describe(value)}")
    if kind is date:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise SchemaError(path, f"expected a date like 2026-12-31, got {_describe(value)}")
    if kind is Any:
        return value
    raise TypeError(f"unsupported schema type {kind!r} at {format_path(path)}")


_HINTS: dict[Any, dict[str, Any]] = {}


def _hints(kind: Any) -> dict[str, Any]:
    """A record's field types, resolved once per class: `get_type_hints` evaluates every
    annotation's text each call, and a config builds the same records many times over
    (it was most of the time a command took to read the demo team's config)."""
    found = _HINTS.get(kind)
    if found is None:
        found = _HINTS[kind] = typing.get_type_hints(kind, include_extras=True)
    return found


def _build_record(kind: Any, value: Any, path: Path) -> Any:
    if not isinstance(value, dict):
        raise SchemaError(path, f"expected a table, got {_describe(value)}")
    hints = _hints(kind)
    fields = {toml_key(f): f for f in dataclasses.fields(kind)}
    errors: list[SchemaError] = []
    kwargs: dict[str, Any] = {}
    for key in value:  # in the order of the file
        field = fields.get(key)
        if field is None:
            what = "unknown key" if path else "unknown section"
            errors.append(SchemaError((*path, key), what + suggest(key, fields)))
            continue
        try:
            kwargs[field.name] = build(hints[field.name], value[key], (*path, key))
            if field.metadata.get("kind") == NAME_KIND:
                _check_name(kwargs[field.name], field, (*path, key))
            _check_bounds(kwargs[field.name], field, (*path, key))
        except SchemaError as exc:
            errors += each_error(exc)
    for key, field in fields.items():
        if key not in value and (
            field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        ):
            errors.append(SchemaError((*path, key), "missing required key"))
    _raise_any(errors)
    return kind(**kwargs)


def _check_bounds(value: Any, field: dataclasses.Field[Any], path: Path) -> None:
    """A number outside the field's `min`/`max` metadata (a negative count of days, a
    port above 65535) is refused where it is written, not found out when it is used."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return
    low, high = field.metadata.get("min"), field.metadata.get("max")
    if low is not None and high is not None and not low <= value <= high:
        raise SchemaError(path, f"must be from {low} to {high}; got {value}")
    if low is not None and value < low:
        raise SchemaError(path, f"must be at least {low}; got {value}")
    if high is not None and value > high:
        raise SchemaError(path, f"must be at most {high}; got {value}")


def _check_name(value: Any, field: dataclasses.Field[Any], path: Path) -> None:
    if not isinstance(value, str):
        return
    required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
    problem = "must not be empty" if required and not value else name_problem(value)
    if problem:
        raise SchemaError(path, problem)


def to_data(kind: Any, value: Any) -> Any:
    """Write a record built by `build` back as TOML-ready data (None values left out)."""
    origin = typing.get_origin(kind)
    if value is None:
        return None
    if origin is typing.Annotated:
        base, *extras = typing.get_args(kind)
        parser = next((e for e in extras if isinstance(e, Parser)), None)
        return parser.dump(value) if parser else to_data(base, value)
    if origin in (typing.Union, types.UnionType):
        (option,) = [a for a in typing.get_args(kind) if a is not type(None)]
        return to_data(option, value)
    if origin is list:
        (item,) = typing.get_args(kind)
        return [to_data(item, v) for v in value]
    if origin is dict:
        _, item = typing.get_args(kind)
        return {k: to_data(item, v) for k, v in value.items()}
    if dataclasses.is_dataclass(kind):
        hints = _hints(kind)
        out = {}
        for field in dataclasses.fields(kind):
            data = to_data(hints[field.name], getattr(value, field.name))
            if data is not None:
                out[toml_key(field)] = data
        return out
    if isinstance(value, timedelta | time):
        raise TypeError("durations and clock times need an Annotated Parser to be written")
    return value
