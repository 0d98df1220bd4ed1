"""The generated reference tables of docs/configuration.md, built from the typed model.

Each row of the key table comes from a dataclass field in `console.config.model`: its
TOML table and key (as `schema` reads them), its type, its default and its `doc`
metadata. A field without `doc` is refused, so a new key cannot reach the docs
undocumented; tests/test_docs.py fails when the docs differ from what this module builds
now. The built-in plugins' options (the extra keys of a `[[sources]]` table) get a table
of their own from each plugin's `Options`. Regenerate with

    python -m opsdesk.console.config.reference --write docs/configuration.md

which rewrites only what stands between `<!-- generated: NAME -->` and
`<!-- end generated -->`; `--check FILE` exits 1 when the file is stale; no argument
prints the key table. Everything but `main` and `builtin_plugin_options` (which reads the
installed entry points) is a pure function of a model class or of text.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal

from opsdesk.console.config import model
from opsdesk.console.config.schema import to_data, toml_key

COMMAND = "python -m opsdesk.console.config.reference --write docs/configuration.md"
END = "<!-- end generated -->"
NO_VALUE = ("", "required", "none")  # defaults written as words, not as TOML

# The model's annotated scalars, named by what people write.
ANNOTATED: dict[Any, str] = {
    model.Duration: "duration",
    model.ClockTime: "time of day",
    model.ZoneName: "IANA time zone",
    model.AwareDateTime: "date-time with offset",
    model.LocalDateTime: "local date-time",
    model.Url: "URL",
}
SCALARS: dict[Any, tuple[str, str]] = {
    str: ("string", "strings"),
    int: ("integer", "integers"),
    float: ("number", "numbers"),
    bool: ("boolean", "booleans"),
    date: ("date", "dates"),
    Any: ("any", "any values"),
}


class UndocumentedKeys(ValueError):
    """Fields without `doc` metadata; `keys` names them as `[table] key`."""

    def __init__(self, keys: list[str]) -> None:
        super().__init__("keys without a `doc` in their field metadata: " + ", ".join(keys))
        self.keys = keys


@dataclass(frozen=True)
class Row:
    """One line of the key table; `key` is empty on the line that introduces a table."""

    table: str
    key: str
    type: str
    default: str
    meaning: str


def rows(config: type = model.Config) -> list[Row]:
    """Every table and key of `config`, depth first in field order (UndocumentedKeys when
    a field has no `doc`)."""
    out: list[Row] = []
    missing: list[str] = []
    _walk(config, (), "", out, missing)
    if missing:
        raise UndocumentedKeys(missing)
    return out


def tables(config: type = model.Config) -> dict[str, set[str]]:
    """Each table header (`[[schedules.layers]]`, `[sla.calendars.<name>]`) with its keys."""
    found: dict[str, set[str]] = {}
    for row in rows(config):
        keys = found.setdefault(row.table, set())
        if row.key:
            keys.add(row.key)
    return found


def reference(config: type = model.Config) -> str:
    """The Markdown table of every key (the `keys` section)."""
    lines = [
        f"<!-- Built from console/config/model.py by: {COMMAND} -->",
        "",
        "| Table | Key | Type | Default | Meaning |",
        "|---|---|---|---|---|",
    ]
    for row in rows(config):
        key = _code(row.key) if row.key else ""
        cells = [_code(row.table), key, row.type, _shown(row.default), row.meaning]
        lines.append(_line(cells))
    return "\n".join(lines) + "\n"


def plugin_reference(options: Mapping[str, type]) -> str:
    """The Markdown table of each plugin's own options (the `plugin options` section)."""
    lines = [
        f"<!-- Built from each plugin's Options by: {COMMAND} -->",
        "",
        "| Plugin | Option | Type | Default |",
        "|---|---|---|---|",
    ]
    for name, kind in options.items():
        hints = typing.get_type_hints(kind, include_extras=True)
        fields = dataclasses.fields(kind)
        if not fields:
            lines.append(_line([_code(name), "(none)", "", ""]))
        for field in fields:
            hint = hints[field.name]
            cells = [_code(name), _code(toml_key(field)), _type(hint), _default(field, hint)]
            lines.append(_line([*cells[:3], _shown(cells[3])]))
    return "\n".join(lines) + "\n"


def builtin_plugin_options() -> dict[str, type]:
    """The Options class of each plugin the opsdesk distribution itself registers."""
    from importlib.metadata import entry_points

    from opsdesk.plugins.registry import GROUP

    found = {
        point.name: point.load().Options
        for point in entry_points(group=GROUP)
        if point.dist is not None and point.dist.name == "opsdesk"
    }
    return dict(sorted(found.items()))


SECTIONS: dict[str, Callable[[], str]] = {
    "keys": reference,
    "plugin options": lambda: plugin_reference(builtin_plugin_options()),
}


def begin(name: str) -> str:
    return f"<!-- generated: {name} -->"


def generated_section(text: str, name: str = "keys") -> str:
    """What stands between the markers of section `name` (ValueError when missing)."""
    start, end = _markers(text, name)
    return text[start:end].strip("\n") + "\n"


def with_section(text: str, name: str, section: str) -> str:
    """`text` with `section` between the markers of `name`; the prose around is kept."""
    start, end = _markers(text, name)
    return text[:start] + "\n" + section.strip("\n") + "\n" + text[end:]


def regenerated(text: str) -> str:
    """`text` with every generated section it has rebuilt from the code as it is now."""
    for name, build in SECTIONS.items():
        if begin(name) in text:
            text = with_section(text, name, build())
    return text


def _markers(text: str, name: str) -> tuple[int, int]:
    start = text.find(begin(name))
    end = text.find(END, start)
    if start < 0 or end < 0:
        raise ValueError(f"expected {begin(name)} ... {END} in the text")
    return start + len(begin(name)), end


def _walk(
    kind: type, prefix: tuple[str, ...], table: str, out: list[Row], missing: list[str]
) -> None:
    hints = typing.get_type_hints(kind, include_extras=True)
    for field in dataclasses.fields(kind):
        key = toml_key(field)
        hint = _without_none(hints[field.name])
        meaning = " ".join(str(field.metadata.get("doc", "")).split())
        if not meaning:
            missing.append(f"{table or '(top level)'} {key}")
        low, high = field.metadata.get("min"), field.metadata.get("max")
        if low is not None or high is not None:
            bound = f"From {low} to {high}." if low is not None and high is not None else ""
            bound = bound or (f"At least {low}." if low is not None else f"At most {high}.")
            meaning = f"{meaning} {bound}"
        default = _default(field, hints[field.name])
        path = ".".join((*prefix, key))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if _is_record(hint):
            header = f"[{path}]"
            out.append(Row(header, "", "table", default, meaning))
            _walk(hint, (*prefix, key), header, out, missing)
        elif origin is list and _is_record(args[0]):
            header = f"[[{path}]]"
            out.append(Row(header, "", "array of tables", default, meaning))
            _walk(args[0], (*prefix, key), header, out, missing)
        elif origin is dict and _is_record(args[1]):
            name = _placeholder(args[0], field)
            header = f"[{path}.{name}]"
            out.append(Row(header, "", "table of tables", default, meaning))
            _walk(args[1], (*prefix, key, name), header, out, missing)
        elif origin is dict and typing.get_origin(_without_none(args[1])) is dict:
            # a table of free-form tables, e.g. [notify.options.<notifier>]
            name = _placeholder(args[0], field)
            header = f"[{path}.{name}]"
            out.append(Row(header, "", "table of tables", default, meaning))
            inner = typing.get_args(_without_none(args[1]))[1]
            out.append(Row(header, "<key>", _type(inner), "", "Any key; taken as it is."))
        elif "shown_key" in field.metadata:  # a field standing for other keys of its table
            out.append(Row(table, str(field.metadata["shown_key"]), _type(args[1]), "", meaning))
        elif origin is dict:  # a table of plain values, e.g. [keys]
            name = _placeholder(args[0], field)
            out.append(Row(f"[{path}]", name, _type(args[1]), "", meaning))
        else:
            out.append(Row(table or "(top level)", key, _type(hint), default, meaning))


def _without_none(hint: Any) -> Any:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(options) == 1:
            return options[0]
    return hint


def _is_record(hint: Any) -> bool:
    return isinstance(hint, type) and dataclasses.is_dataclass(hint)


def _placeholder(key_kind: Any, field: dataclasses.Field[Any]) -> str:
    if typing.get_origin(key_kind) is Literal:
        return "<" + "/".join(str(a) for a in typing.get_args(key_kind)) + ">"
    return "<" + str(field.metadata.get("each", "name")) + ">"


def _type(hint: Any, plural: bool = False) -> str:
    hint = _without_none(hint)
    if hint in ANNOTATED:
        return ANNOTATED[hint] + ("s" if plural else "")
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        return _type(args[0], plural)
    if origin is Literal:
        values = [f"`{json.dumps(a)}`" for a in args]
        return ", ".join(values[:-1]) + " or " + values[-1] if len(values) > 1 else values[0]
    if origin is list:
        return ("arrays" if plural else "array") + " of " + _type(args[0], plural=True)
    if origin is dict:
        return ("tables" if plural else "table") + " of " + _type(args[1], plural=True)
    if hint in SCALARS:
        return SCALARS[hint][1 if plural else 0]
    raise TypeError(f"no name for the config type {hint!r}")


def _default(field: dataclasses.Field[Any], hint: Any) -> str:
    """The default as inline TOML, or "required", "none", or "" for a table (or array of
    tables) that is empty or whose keys carry their own defaults."""
    if field.default is not dataclasses.MISSING:
        value = field.default
    elif field.default_factory is not dataclasses.MISSING:
        value = field.default_factory()
    else:
        return "required"
    if value is None:
        return "none"
    kind = _without_none(hint)
    if _is_record(kind) and value == kind():
        return ""
    if isinstance(value, dict) and not value:
        return ""
    if isinstance(value, list) and not value and _is_record(typing.get_args(kind)[0]):
        return ""
    return _inline(_sparse(hint, value))


def _sparse(hint: Any, value: Any) -> Any:
    """`value` as TOML data, leaving out keys of records that equal their own default."""
    kind = _without_none(hint)
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is dict and _is_record(args[1]):
        return {k: _sparse(args[1], v) for k, v in value.items()}
    if origin is list and _is_record(args[0]):
        return [_sparse(args[0], v) for v in value]
    if _is_record(kind):
        hints = typing.get_type_hints(kind, include_extras=True)
        out = {}
        for field in dataclasses.fields(kind):
            own = getattr(value, field.name)
            if field.default is not dataclasses.MISSING and own == field.default:
                continue
            if field.default_factory is not dataclasses.MISSING and own == field.default_factory():
                continue
            out[toml_key(field)] = _sparse(hints[field.name], own)
        return out
    return to_data(kind, value)


def _inline(data: Any) -> str:
    """TOML inline syntax for a default value."""
    if isinstance(data, bool):
        return "true" if data else "false"
    if isinstance(data, str):
        return json.dumps(data)
    if isinstance(data, int | float):
        return repr(data)
    if isinstance(data, date | time | datetime):
        return data.isoformat()
    if isinstance(data, list):
        return "[" + ", ".join(_inline(v) for v in data) + "]"
    if isinstance(data, dict):
        if not data:
            return "{}"
        return "{ " + ", ".join(f"{k} = {_inline(v)}" for k, v in data.items()) + " }"
    raise TypeError(f"cannot write {data!r} as TOML")


def _shown(default: str) -> str:
    return default if default in NO_VALUE else _code(default)


def _code(text: str) -> str:
    return f"`{text}`"


def _line(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the key table, or `--write FILE` (every generated section), or `--check FILE`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        sys.stdout.write(reference())
        return 0
    if len(args) != 2 or args[0] not in ("--write", "--check"):
        sys.stderr.write(
            "usage: python -m opsdesk.console.config.reference [--write FILE | --check FILE]\n"
        )
        return 2
    path = Path(args[1])
    text = path.read_text(encoding="utf-8")
    updated = regenerated(text)
    if args[0] == "--check":
        if updated != text:
            sys.stderr.write(f"{path}: the generated reference is stale; run {COMMAND}\n")
            return 1
        return 0
    if updated != text:
        path.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
