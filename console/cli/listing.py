"""What every `... list` command shares: a period from `--from`/`--to`, services checked
against the config, `--limit 0` meaning all (written a chunk at a time), and a list cut
at its limit saying so on stderr (`100 of 5,002 shown; --limit 0 for all`) instead of
truncating in silence."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from textwrap import indent
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from opsdesk.console.cli.csv_out import emit_csv
from opsdesk.console.cli.output import emit_table, json_default, warn
from opsdesk.console.config.model import Config
from opsdesk.console.config.schema import suggest
from opsdesk.console.domain.periods import between, parse_bound
from opsdesk.console.domain.review_period import team_zone
from opsdesk.console.domain.text import one_line
from opsdesk.console.errors import InputError
from opsdesk.store.value import FrozenValue

T = TypeVar("T")

COUNT_AT_MOST = 1_000_000
"""Counting the rows a cut list left out stops just past here ("100 of more than 1,000,000 shown"):
a broad filter over a large store would otherwise visit every match to say how many."""


def bound(text: str) -> date | datetime:
    """argparse type for `--from`/`--to`: a day or an instant, or a one-line error."""
    try:
        return parse_bound(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_period_flags(parser: argparse.ArgumentParser, *, service: bool) -> None:
    """`--from`/`--to` (and `--service`) of the figures commands. Here, not in figures.py,
    so defining `opsdesk incident` does not load the figures' own module."""
    parser.add_argument(
        "--from", dest="from_", type=bound, metavar="WHEN",
        help="from this day (team's zone) or instant (default: 30 days ago)",
    )  # fmt: skip
    parser.add_argument(
        "--to",
        type=bound,
        metavar="WHEN",
        help="to the end of this day, or this instant (default: now)",
    )
    if service:
        parser.add_argument("--service", metavar="NAME", help="only this service")


def period(
    command: str, args: argparse.Namespace, config: Config
) -> tuple[datetime | None, datetime | None]:
    """[--from, --to) as UTC instants; a day is the whole day in the team's zone, as
    `report review` reads it (console/domain/review_period.py). `--to` not after `--from`
    is an input mistake (exit 2)."""
    try:
        return between(args.from_, args.to, ZoneInfo(team_zone(config)))
    except ValueError as exc:
        raise InputError(f"{command}: {exc}") from None


def check_services(command: str, config: Config, names: Iterable[str]) -> None:
    """Every `--service` must be a service the config names (exit 2 with a did-you-mean);
    a config without services accepts any name."""
    known = [s.name for s in config.services]
    for name in names:
        if known and name not in known:
            hint = suggest(name, known) or _known(known)
            raise InputError(f"{command}: unknown service {name!r}{hint}")


def _known(names: list[str], at_most: int = 12) -> str:
    """ " (services: a, b, c)": what could have been meant when nothing is close."""
    shown = ", ".join(names[:at_most]) + (", ..." if len(names) > at_most else "")
    return f" (services: {shown})"


def cut(shown: int, limit: int) -> bool:
    """Whether a list may have stopped at its limit (so the total is worth counting)."""
    return limit > 0 and shown >= limit


def say_cut(shown: int, total: int, *, at_most: int = COUNT_AT_MOST) -> None:
    """On stderr, when a list stopped before the end: how many of how many were shown."""
    if total <= shown:
        return
    of = f"more than {at_most:,}" if total > at_most else f"{total:,}"
    warn(f"{shown:,} of {of} shown; --limit 0 for all")


@dataclass(frozen=True, eq=False, repr=False)
class Shape(FrozenValue, Generic[T]):
    """How one kind of record is listed: its JSON object, its CSV columns (keys of that
    object) and its text table."""

    json_of: Callable[[T], dict[str, Any]]
    csv_fields: Sequence[str]
    headers: Sequence[str]
    row_of: Callable[[T], list[str]]


async def emit_list(
    args: argparse.Namespace, shape: Shape[T], chunks: AsyncIterator[Sequence[T]]
) -> int:
    """Write the records as `--json`, `--csv` or a text table, chunk by chunk, so a list
    of every record (`--limit 0`) on a large store needs memory for one chunk only. The
    JSON is the same text `emit_json` writes for the whole list. Returns how many."""
    written = 0
    async for chunk in chunks:
        if not chunk:
            continue  # an empty list's heading is written once, below
        if args.json:
            for record in chunk:
                text = json.dumps(
                    shape.json_of(record), default=json_default, ensure_ascii=True, indent=2
                )
                sys.stdout.write(("[\n" if written == 0 else ",\n") + indent(text, "  "))
                written += 1
            continue
        if args.csv:
            objects = [shape.json_of(r) for r in chunk]
            rows = [[data[k] for k in shape.csv_fields] for data in objects]
            emit_csv(shape.csv_fields, rows, header=written == 0)
        else:
            table(shape.headers, [shape.row_of(r) for r in chunk], header=written == 0)
        written += len(chunk)
    if args.json:
        sys.stdout.write("\n]\n" if written else "[]\n")
    elif args.csv and written == 0:
        emit_csv(shape.csv_fields, [])
    elif written == 0:
        table(shape.headers, [])
    return written


async def one_chunk(records: Sequence[T]) -> AsyncIterator[Sequence[T]]:
    """A list already read, as the chunks `emit_list` takes."""
    yield records


def table(headers: Sequence[str], rows: list[list[str]], *, header: bool = True) -> None:
    """`emit_table`, with the heading only on the first chunk of a long list."""
    if header:
        emit_table(list(headers), rows)
        return
    cells = [[one_line(str(c), limit=80) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    for row in cells:
        sys.stdout.write(
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n"
        )
