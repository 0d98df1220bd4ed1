"""`opsdesk store copy SRC DST`: a whole store moved between SQLite files and PostgreSQL
databases (either way, or alike), for backups and for a team that outgrows one host.

What a person expects of it, as of pg_dump/pg_restore or sqlite3's `.backup`:
- SRC is read, never written: one read snapshot, so a store in use copies consistently.
- DST is new: a SQLite file that does not exist yet (built beside it and moved into
  place, so a half-copied store never appears there) or a store with no opsdesk rows.
  Anything else is refused before a byte is written.
- Every row of every table goes in as it was, ids included, parents before children
  (the foreign keys decide the order), in ONE transaction on DST: a failure leaves DST
  as it was. The audit log keeps its ids, actors and hashes (store/pg/copying.py says how
  PostgreSQL's own triggers are kept from rewriting them).
- What DST derives from those rows is DST's to compute, never copied: the search index
  (FTS5 tables, or the generated `search` column), the metrics aggregates (rebuilt in one
  pass as store/stats.py does), the change counters; leases belong to the source's
  running processes. Columns only one backend has (PostgreSQL's audit.db_at) and the
  source cluster's transaction ids (txid) stay behind.
- Checked afterwards: rows per table equal on both sides, the metrics aggregates equal,
  and the audit chain verified on DST by the same code as `opsdesk audit --verify`.
Tables stream in chunks, so memory stays flat whatever the store's size.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import Any, Protocol

from opsdesk.store.errors import StoreError, StoreOpenError
from opsdesk.store.location import PgLocation, StoreLocation, location_label, parse_location
from opsdesk.store.records import AuditCheck

CHUNK = 5000  # rows per read and per write batch

# Tables DST computes or owns itself, and why they are not copied.
NOT_COPIED = {
    "metrics_durations": "computed by the target from the incidents",
    "metrics_outcomes": "computed by the target from the incidents",
    "metrics_dekads": "computed by the target from the incidents",
    "change_counts": "the target's own change counters",
    "leases": "held by the source's running processes",
}
# Columns that mean something only where they were written: PostgreSQL's audit.txid and
# change_approvals.txid name transactions of the source's cluster (0002_security.sql
# matches them against txid_current(), so a copied one could one day match a DST
# transaction that wrote no audit row). DST leaves them empty.
NOT_COPIED_COLUMNS = {"txid": "transaction ids of the source's database"}
# Rows a new store holds already (the migrations' or the opener's): DST counts as empty
# with them, and they are replaced by the source's.
SEEDED = {
    "meta": "key <> 'created_at'",
    "banner": "text <> '' OR set_by IS NOT NULL",
}


class CopyUsageError(StoreError):
    """The command was called wrongly (the same store twice): exit 2."""

    exit_code = 2


class CopyRefused(StoreError):
    """DST is not empty, or appeared while copying: nothing was written there."""


class Side(Protocol):
    """One end of a copy (store/copy_sqlite.py, store/pg/copying.py)."""

    dialect: str
    label: str

    def tables(self) -> list[str]: ...
    def columns(self, table: str) -> list[str]: ...
    def key(self, table: str) -> list[str]: ...
    def parents(self, table: str) -> set[str]: ...
    def count(self, table: str, where: str = "") -> int: ...
    def snapshot(self) -> None: ...
    def rows(
        self, table: str, columns: Sequence[str], order: Sequence[str], chunk: int
    ) -> Iterator[list[tuple[Any, ...]]]: ...
    def metrics(self) -> Iterator[tuple[Any, ...]]: ...
    def begin(self, tables: Sequence[str]) -> None: ...
    def clear(self, table: str) -> None: ...
    def load(
        self, table: str, columns: Sequence[str], batches: Iterator[list[tuple[Any, ...]]]
    ) -> int: ...
    def finish(self, tables: Sequence[str]) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class TableCopy:
    table: str
    source_rows: int
    target_rows: int

    @property
    def equal(self) -> bool:
        return self.source_rows == self.target_rows


@dataclass(frozen=True)
class CopyReport:
    """What was copied and what the checks afterwards found."""

    source: str
    target: str
    tables: tuple[TableCopy, ...]
    not_copied: dict[str, str]  # table or table.column -> why
    metrics_equal: bool
    audit: AuditCheck
    source_audit: AuditCheck | None  # walked only when DST's chain does not verify
    seconds: float
    rows: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", sum(t.target_rows for t in self.tables))

    @property
    def ok(self) -> bool:
        return all(t.equal for t in self.tables) and self.metrics_equal and self.audit.intact


@dataclass(frozen=True)
class Plan:
    order: tuple[str, ...]  # parents first
    columns: dict[str, list[str]]
    not_copied: dict[str, str]


def open_side(location: StoreLocation, *, write: bool) -> Side:
    if isinstance(location, PgLocation):
        from opsdesk.store.pg.copying import PgSide

        return PgSide(location, write=write)
    from opsdesk.store.copy_sqlite import SqliteSide

    return SqliteSide(location, write=write)


def copy_store(source: str | Path, target: str | Path, *, chunk: int = CHUNK) -> CopyReport:
    """Copy the store at `source` into the new or empty store at `target`, then check it
    (see the module docstring). Raises StoreError (one line) when it cannot; a report
    whose `ok` is False when the copy committed but a check disagrees."""
    began = time.perf_counter()
    src, dst = parse_location(source), parse_location(target)
    _refuse_same(src, dst)
    if isinstance(src, Path):
        _check_sqlite_source(src)
    asyncio.run(_open(src, read_only=True))  # a newer, older or foreign SRC says so here
    building: tuple[Path, Path] | None = None  # (the file loaded, the name it gets)
    if isinstance(dst, Path):
        if dst.is_dir():
            raise CopyUsageError(f"{dst}: is a folder; DST names a new store file")
        if dst.exists():
            _refuse_unless_empty(dst)
        else:
            building = (dst.with_name(f".{dst.name}.copying-{os.getpid()}"), dst)
            _remove_family(building[0])
    else:
        _refuse_unless_empty(dst)
    load_at: StoreLocation = dst if building is None else building[0]
    try:
        asyncio.run(_open(load_at, read_only=False))  # DST's schema, by its migrations
        tables, not_copied, metrics_equal = _pump(src, load_at, chunk)
        if building is not None:
            _move_into_place(*building)
    finally:
        if building is not None:
            _remove_family(building[0])
    audit, source_audit = asyncio.run(_verify(src, dst))
    return CopyReport(
        source=location_label(src),
        target=location_label(dst),
        tables=tables,
        not_copied=not_copied,
        metrics_equal=metrics_equal,
        audit=audit,
        source_audit=source_audit,
        seconds=time.perf_counter() - began,
    )


def _refuse_same(src: StoreLocation, dst: StoreLocation) -> None:
    same = (
        src.url == dst.url
        if isinstance(src, PgLocation) and isinstance(dst, PgLocation)
        else isinstance(src, Path) and isinstance(dst, Path) and src.resolve() == dst.resolve()
    )
    if same:
        raise CopyUsageError(f"{location_label(src)}: SRC and DST are the same store")


def _check_sqlite_source(path: Path) -> None:
    """A missing SRC, or one an older opsdesk wrote: SRC is only read, so it is not
    upgraded here (opening it read-only would say "open it once without --read-only",
    an option this command does not have)."""
    from opsdesk.store.db import LATEST_SCHEMA, peek_schema

    if not path.is_file():
        raise StoreOpenError(f"{path}: no store here (SRC must be an existing store)")
    version = peek_schema(path)
    if version is not None and 0 < version < LATEST_SCHEMA:
        raise StoreOpenError(
            f"{path}: written by an older opsdesk (schema {version}; this one writes"
            f" {LATEST_SCHEMA}) and SRC is only read: upgrade it first"
            f" (`opsdesk --store {path} store migrate`), then copy"
        )


async def _open(location: StoreLocation, *, read_only: bool) -> None:
    """Open (and close) the store as opsdesk would: this refuses a store written by a
    newer opsdesk or one that is not opsdesk's, and, for DST, applies its migrations."""
    from opsdesk.store.store import Store

    store = await Store.open(location, read_only=read_only, create=not read_only)
    await store.close()


def _refuse_unless_empty(location: StoreLocation) -> None:
    """Before anything is written (opening DST would migrate it): DST holds no opsdesk
    rows. Checked again inside the load's transaction, where nobody can add one."""
    side = open_side(location, write=False)
    try:
        full = _holding(side, [t for t in side.tables() if t not in NOT_COPIED])
    finally:
        side.close()
    if full is not None:
        raise CopyRefused(_not_empty(location, full))


def _holding(side: Side, tables: Sequence[str]) -> str | None:
    """The first table holding rows a new store would not have, if any."""
    for table in tables:
        if side.count(table, SEEDED.get(table, "")):
            return table
    return None


def _not_empty(location: StoreLocation, table: str) -> str:
    return (
        f"{location_label(location)}: DST is not empty ({table} has rows); "
        "copy into a new file or an empty database; nothing was written"
    )


def _plan(src: Side, dst: Side) -> Plan:
    """The tables both sides have (less those DST computes itself), parents before
    children by DST's foreign keys, each with the stored columns both sides have. Both
    stores are at this opsdesk's schema (opening them made sure), so what only one side
    has is its backend's own, or not opsdesk's at all: left out and named in the report."""
    theirs = set(dst.tables())
    not_copied: dict[str, str] = {}
    columns: dict[str, list[str]] = {}
    for table in src.tables():
        if table in NOT_COPIED:
            not_copied[table] = NOT_COPIED[table]
        elif table not in theirs:  # not opsdesk's, or a table only SRC's backend has
            not_copied[table] = "DST has no such table"
        else:
            ours = set(dst.columns(table))
            columns[table] = []
            for column in src.columns(table):
                if column not in ours:
                    not_copied[f"{table}.{column}"] = f"only the {src.dialect} store has it"
                elif column in NOT_COPIED_COLUMNS:
                    not_copied[f"{table}.{column}"] = NOT_COPIED_COLUMNS[column]
                else:
                    columns[table].append(column)
    return Plan(_parents_first(dst, list(columns)), columns, not_copied)


def _parents_first(dst: Side, tables: list[str]) -> tuple[str, ...]:
    parents = {t: dst.parents(t) & set(tables) - {t} for t in tables}
    order: list[str] = []
    while len(order) < len(tables):
        ready = [t for t in tables if t not in order and parents[t] <= set(order)]
        if not ready:  # a cycle of foreign keys: no order inserts it
            left = sorted(set(tables) - set(order))
            raise StoreError(f"{dst.label}: foreign keys form a cycle among {', '.join(left)}")
        order.extend(ready)
    return tuple(order)


def _pump(
    src_at: StoreLocation, dst_at: StoreLocation, chunk: int
) -> tuple[tuple[TableCopy, ...], dict[str, str], bool]:
    """Stream every table from SRC's snapshot into DST's one transaction, commit, then
    count both sides and compare the metrics (SRC still in the same snapshot)."""
    src = open_side(src_at, write=False)
    try:
        src.snapshot()
        dst = open_side(dst_at, write=True)
        try:
            plan = _plan(src, dst)
            dst.begin(plan.order)
            full = _holding(dst, plan.order)
            if full is not None:
                raise CopyRefused(_not_empty(dst_at, full))
            for table in SEEDED:
                if table in plan.columns:
                    dst.clear(table)
            expected: dict[str, int] = {}
            for table in plan.order:
                expected[table] = src.count(table)
                columns = plan.columns[table]
                dst.load(table, columns, src.rows(table, columns, src.key(table), chunk))
            dst.finish(plan.order)
            dst.commit()
        finally:
            dst.close()
        after = open_side(dst_at, write=False)
        try:
            after.snapshot()
            tables = tuple(TableCopy(t, expected[t], after.count(t)) for t in plan.order)
            metrics_equal = _same_metrics(src.metrics(), after.metrics())
        finally:
            after.close()
    finally:
        src.close()
    return tables, plan.not_copied, metrics_equal


def _same_metrics(ours: Iterator[tuple[Any, ...]], theirs: Iterator[tuple[Any, ...]]) -> bool:
    """Row for row, counts exact; sums of seconds to within rounding (they are added up
    in a different order on each side)."""
    for a, b in zip_longest(ours, theirs):
        if a is None or b is None or len(a) != len(b):
            return False
        for x, y in zip(a, b, strict=True):
            if isinstance(x, float) or isinstance(y, float):
                if not math.isclose(float(x), float(y), rel_tol=1e-9, abs_tol=1e-6):
                    return False
            elif x != y:
                return False
    return True


async def _verify(src: StoreLocation, dst: StoreLocation) -> tuple[AuditCheck, AuditCheck | None]:
    """DST's audit chain walked by `opsdesk audit --verify`'s code; SRC's too when DST's
    does not verify, to tell a break copied from SRC from one the copy made."""
    from opsdesk.store.store import Store

    async with await Store.open(dst, read_only=True) as store:
        check = await store.audit.verify()
    if check.intact:
        return check, None
    async with await Store.open(src, read_only=True) as store:
        return check, await store.audit.verify()


def _move_into_place(built: Path, target: Path) -> None:
    """A hard link: atomic, and never over a file that appeared meanwhile."""
    try:
        os.link(built, target)
    except FileExistsError:
        raise CopyRefused(
            f"{target}: a file appeared there while copying; nothing was written"
        ) from None
    except OSError:  # a filesystem without hard links
        if target.exists():
            raise CopyRefused(
                f"{target}: a file appeared there while copying; nothing was written"
            ) from None
        os.replace(built, target)


def _remove_family(path: Path) -> None:
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        name.unlink(missing_ok=True)
