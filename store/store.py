"""The store's public surface: one object with a repository per kind of record.

Callers see records and operations, never SQL or SQLite; a PostgreSQL store can offer
the same surface later.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from opsdesk.store.db import LATEST_SCHEMA, Database, peek_schema
from opsdesk.store.errors import InvalidOperation, StoreError
from opsdesk.store.location import PgLocation, StoreLocation, location_label, parse_location
from opsdesk.store.meta import CREATED_AT, Meta
from opsdesk.store.records import Actor, Role

if TYPE_CHECKING:
    from opsdesk.store.actions import ActionItems
    from opsdesk.store.audit import AuditLog
    from opsdesk.store.banner import BannerRepo
    from opsdesk.store.changes import Changes
    from opsdesk.store.handoffs import Handoffs
    from opsdesk.store.incidents import Incidents
    from opsdesk.store.leases import Leases
    from opsdesk.store.notifications import Notifications
    from opsdesk.store.overrides import Overrides
    from opsdesk.store.problems import Problems
    from opsdesk.store.review_queries import ReviewQueries
    from opsdesk.store.reviews import Reviews
    from opsdesk.store.stats import Stats
    from opsdesk.store.stats_records import StoreInfo
    from opsdesk.store.statuses import SourceStatuses


class SqliteHasNoRoles(InvalidOperation):
    """A role command given a SQLite store: a usage mistake (exit 2)."""

    exit_code = 2


class Store:
    """The repositories are made on first use, each importing its module then: a command
    that lists incidents loads neither the problem, review nor change repositories (their
    record classes are most of a quick command's start-up; tests/test_import_cost.py)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.meta = Meta(db)

    @cached_property
    def audit(self) -> AuditLog:
        from opsdesk.store.audit import AuditLog

        return AuditLog(self._db)

    @cached_property
    def incidents(self) -> Incidents:
        from opsdesk.store.incidents import Incidents

        return Incidents(self._db)

    @cached_property
    def stats(self) -> Stats:
        from opsdesk.store.stats import Stats

        return Stats(self._db)

    @cached_property
    def banner(self) -> BannerRepo:
        from opsdesk.store.banner import BannerRepo

        return BannerRepo(self._db)

    @cached_property
    def changes(self) -> Changes:
        from opsdesk.store.changes import Changes

        return Changes(self._db)

    @cached_property
    def overrides(self) -> Overrides:
        from opsdesk.store.overrides import Overrides

        return Overrides(self._db)

    @cached_property
    def statuses(self) -> SourceStatuses:
        from opsdesk.store.statuses import SourceStatuses

        return SourceStatuses(self._db)

    @cached_property
    def handoffs(self) -> Handoffs:
        from opsdesk.store.handoffs import Handoffs

        return Handoffs(self._db)

    @cached_property
    def notifications(self) -> Notifications:
        from opsdesk.store.notifications import Notifications

        return Notifications(self._db)

    @cached_property
    def leases(self) -> Leases:
        from opsdesk.store.leases import Leases

        return Leases(self._db)

    @cached_property
    def problems(self) -> Problems:
        from opsdesk.store.problems import Problems

        return Problems(self._db)

    @cached_property
    def reviews(self) -> Reviews:
        from opsdesk.store.reviews import Reviews

        return Reviews(self._db)

    @cached_property
    def actions(self) -> ActionItems:
        from opsdesk.store.actions import ActionItems

        return ActionItems(self._db)

    @cached_property
    def review(self) -> ReviewQueries:
        from opsdesk.store.review_queries import ReviewQueries

        return ReviewQueries(self._db)

    @classmethod
    async def open(
        cls,
        path: str | StoreLocation,
        *,
        group: str | None = None,
        read_only: bool = False,
        create: bool = True,
    ) -> Store:
        """Open (migrating as needed) the store at `path`: a SQLite file, or a PostgreSQL
        database when it is a `postgresql://` URL (store/pg/, imported only then). A
        missing SQLite store is created, or with `create=False` (commands that only read)
        answered by an empty store in memory: every read finds nothing, no file is made,
        and writes are refused."""
        location = parse_location(path)
        if isinstance(location, PgLocation):
            from opsdesk.store.pg.db import PgDatabase

            pg = await PgDatabase.open(location, read_only=read_only)
            # PgDatabase offers every member of Database the repositories use.
            return cls(cast(Database, pg))
        db = await Database.open(location, group=group, read_only=read_only, create=create)
        return cls(db)

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[None]:
        """One transaction around several operations (an incident opening and the pages
        it causes): they commit together or not at all. Each operation inside keeps its
        role check and audit row, and runs as a savepoint."""
        async with self._db.observe():
            yield

    async def hold(self, name: str) -> None:
        """Inside `atomic()`: wait until no other process holds `name`, and hold it until
        this transaction ends. SQLite's write lock already makes every transaction wait
        its turn; on PostgreSQL two `serve` hosts taking the same alert at once would both
        find no open incident and both open one (the second refused by the unique open
        dedup key): an advisory lock per integration makes the second wait and then
        find the first's incident."""
        if self.backend == "postgres":
            await self._db.conn.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (name,))

    async def interrupt_searches(self) -> None:
        """Stop the search in flight, if any: the filter text changed, so its answer is
        stale. Its caller gets SearchInterrupted; writes and other reads are untouched."""
        await self._db.interrupt_searches()

    async def close(self) -> None:
        await self._db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def path(self) -> Path:
        """The SQLite file; a PostgreSQL store has none (see `location`)."""
        if isinstance(self._db.path, PgLocation):
            raise StoreError(f"{self._db.path.display}: a PostgreSQL store has no file")
        return self._db.path

    @property
    def location(self) -> StoreLocation:
        """Where the store lives: its file, or its PostgreSQL database."""
        return self._db.path

    @property
    def backend(self) -> str:
        """ "sqlite" or "postgres"."""
        return "postgres" if isinstance(self._db.path, PgLocation) else "sqlite"

    @property
    def read_only(self) -> bool:
        return self._db.read_only

    @property
    def read_only_reason(self) -> str | None:
        """Why writes are off when nobody asked for --read-only (None otherwise)."""
        return self._db.read_only_reason

    @staticmethod
    def peek_schema(path: str | Path) -> int | None:
        """The schema version of a store file without opening (or migrating) it; None if
        it cannot be read as SQLite."""
        return peek_schema(Path(path))

    @property
    def live_problem(self) -> str | None:
        """Why other processes' changes are not arriving (a PostgreSQL server that went
        away: the feed reconnects by itself); None when they are, and always on SQLite."""
        problem = getattr(self._db, "live_problem", None)
        return problem if isinstance(problem, str) else None

    async def change_token(self) -> object:
        """An opaque value that differs after any commit by any process; cheap to poll."""
        return await self._db.change_token()

    async def authenticated_actor(self) -> tuple[Actor, dict[Role, str]]:
        """On PostgreSQL, who is acting: the role that authenticated, with the opsdesk
        roles it is a member of, each named by the database role granting it. Nothing the
        client says can choose another person or role."""
        login, held = await self._pg().authenticated()
        roles: dict[Role, str] = {
            cast(Role, role): f"database role opsdesk_{role}" for role in held
        }
        roles.setdefault("engineer", "everyone")
        return Actor(login=login, roles=frozenset(roles)), roles

    def _pg(self) -> Any:
        from opsdesk.store.pg.db import PgDatabase

        db = cast(Any, self._db)
        if not isinstance(db, PgDatabase):
            raise SqliteHasNoRoles(
                f"{self.location}: roles on a SQLite store come from config files ([roles]);"
                " granting roles in the store is for PostgreSQL"
            )
        return db

    async def grant_role(self, actor: Actor, login: str, role: str, now: datetime) -> None:
        """PostgreSQL: make `login` (created if missing) a member of opsdesk's `role`,
        audited as role.grant. Only admins may: the database refuses anyone else."""
        await self._pg().change_role(actor, login, role, now, grant=True)

    async def revoke_role(self, actor: Actor, login: str, role: str, now: datetime) -> None:
        """PostgreSQL: take opsdesk's `role` from `login`, audited as role.revoke."""
        await self._pg().change_role(actor, login, role, now, grant=False)

    async def role_members(self) -> dict[str, list[Role]]:
        """PostgreSQL: each login holding opsdesk roles directly, with those roles."""
        members: dict[str, list[Role]] = await self._pg().role_members()
        return members

    async def _latest_schema(self) -> int:
        if self.backend == "postgres":
            from opsdesk.store.pg.db import LATEST_PG_SCHEMA

            return LATEST_PG_SCHEMA
        return LATEST_SCHEMA

    async def info(self) -> StoreInfo:
        from opsdesk.store.stats_records import StoreInfo

        counts = {}
        for table in ("incidents", "changes", "overrides", "audit"):
            counts[table] = int(await self._db.scalar(f"SELECT count(*) FROM {table}"))
        return StoreInfo(
            path=location_label(self.location),
            schema_version=await self._db.schema_version(),
            latest_schema=await self._latest_schema(),
            demo=await self.meta.is_demo(),
            read_only=self.read_only,
            created_at=await self.meta.get(CREATED_AT),
            counts=counts,
        )
