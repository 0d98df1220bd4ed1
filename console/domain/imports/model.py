"""What every importer produces: the source product's team, in neutral terms.

An importer (one module per product, e.g. `grafana_oncall.py`) does two pure things:

1. `endpoints(window)`: the API calls the fetcher makes, each with its pagination style,
   so `console/ops/import_fetch.py` can page through any product the same way and save
   each answer as `<key>.json` in a folder (`--save-dir`), read back by `--from-dir`;
2. `parse(bundle)`: turn those saved answers (a `Bundle`) into a `SourceTeam`: people,
   schedules with layers, escalation policies, services, overrides, the product's own
   final rota (for `--verify`), and a `Skipped` item for everything that does not map.

`console/domain/imports/mapping.py` then turns a `SourceTeam` into opsdesk config and
overrides the same way for every product, and `verify.py` compares rotas. A new product
plugs in by writing one module with an `Importer` and adding it to `registry.py`;
nothing else changes. Importers never raise on odd data: they record a `Skipped` with
the source object's id and why; only a bundle that cannot be read at all (a missing
file, a page that is not what the endpoint returns) raises `BundleError`.

Times: instants are aware `datetime`s; a layer's handoff is a *local* wall-clock time
in the layer's zone (handoffs stay at that wall-clock time across DST, as in all three
products); weekly ranges are local to the layer's zone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Literal, Protocol

Json = Any
"""A decoded JSON value from the source (untrusted: check every field's type)."""

Pagination = Literal["none", "next_url", "offset"]
"""How an endpoint pages: `none` (one answer), `next_url` (each page names the next
page's full URL at `next_key`, OnCall's `next`, Opsgenie's `paging.next`), `offset`
(`offset`/`limit` query parameters until the page says `more: false`, PagerDuty)."""


NOBODY_MEMBER = ""
"""A layer member that is nobody: that turn the layer covers no one."""


class BundleError(ValueError):
    """A saved answer that cannot be read: one line naming the file (key) and what."""


@dataclass(frozen=True)
class Endpoint:
    """One API call of an importer.

    `key` names the saved file (`<key>.json`); `path` is relative to the base URL and may
    hold `{id}` when `each` names another endpoint whose items (their `id`) it is called
    for: then the key gets `/<id>` (e.g. `final_shifts/SBM7DV7BKFUYU`)."""

    key: str
    path: str
    pagination: Pagination = "none"
    items_key: str = ""
    """Where the list of items is in each page (`results`, `schedules`, `data`); empty:
    the page is one object, not a list."""
    next_key: str = "next"
    """For `next_url`: the dotted key of the next page's URL (`next`, `paging.next`)."""
    params: Mapping[str, str] = field(default_factory=dict)
    """Query parameters; `{now}` and `{horizon}` (a year after now) in a value are filled
    in by the fetcher as ISO 8601 UTC instants (PagerDuty's overrides need since/until)."""
    each: str = ""
    limit: int = 100
    """For `offset`: page size asked for."""


@dataclass(frozen=True)
class Window:
    """The weeks `--verify` compares: [start, end)."""

    start: datetime
    end: datetime


class Bundle(Protocol):
    """Saved API answers by key: every page an endpoint returned, in order."""

    def pages(self, key: str) -> list[Json]:
        """The pages saved under `key`; raises `BundleError` when there are none."""
        ...

    def has(self, key: str) -> bool: ...

    def keys(self) -> list[str]: ...


@dataclass(frozen=True)
class SourceUser:
    id: str
    email: str = ""
    username: str = ""
    name: str = ""
    timezone: str = ""
    phone: str = ""


@dataclass(frozen=True)
class WeeklyRange:
    """When a layer may cover, in its zone: from `start_day` (0 Monday … 6 Sunday) at
    `start` to `end_day` at `end`. An end at or before the start (in week order) wraps
    into the next week; start equal to end is the whole week. A daily 09:00–17:00 window
    is five (or seven) ranges; 22:00–06:00 crosses midnight: (0, 22:00, 1, 06:00)."""

    start_day: int
    start: time
    end_day: int
    end: time


@dataclass(frozen=True)
class SourceLayer:
    """One rotation: `members` (source user ids) take turns of `rotation` (wall-clock:
    `1 day` hands off at the same local time across DST), the first turn beginning at
    local `handoff` in `timezone`. It covers only inside `restrictions` (none: always),
    only from `active_from` and before `until` (aware instants; None: no bound).
    `precedence`: higher wins where two layers both have someone (the mapper orders
    opsdesk layers by it, ties by source order)."""

    id: str
    name: str
    members: tuple[str, ...]
    rotation: timedelta
    handoff: datetime
    timezone: str
    restrictions: tuple[WeeklyRange, ...] = ()
    active_from: datetime | None = None
    until: datetime | None = None
    precedence: int = 0


@dataclass(frozen=True)
class SourceSchedule:
    id: str
    name: str
    timezone: str
    layers: tuple[SourceLayer, ...] = ()


@dataclass(frozen=True)
class SourceOverride:
    """`user_id` covers `schedule_id` over [start, end) instead of its layers."""

    id: str
    schedule_id: str
    user_id: str
    start: datetime
    end: datetime


TargetKind = Literal["user", "schedule"]


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    id: str


@dataclass(frozen=True)
class SourceLevel:
    """Paged `delay` after the alert (cumulative, exact to the second), every target at
    once."""

    delay: timedelta
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class SourcePolicy:
    """An escalation policy / chain. `repeat`: extra passes from the first level, each
    `repeat_after` after the last level paged (None: the product's own default)."""

    id: str
    name: str
    levels: tuple[SourceLevel, ...] = ()
    repeat: int = 0
    repeat_after: timedelta | None = None


IntegrationKind = Literal["alertmanager", "grafana", "pagerduty", "webhook"]


@dataclass(frozen=True)
class SourceIntegration:
    """A way alerts come in, mapped to an opsdesk integration kind."""

    id: str
    name: str
    kind: IntegrationKind


@dataclass(frozen=True)
class SourceService:
    """Something alerts are about, with the policy that pages for it."""

    id: str
    name: str
    policy_id: str | None = None
    description: str = ""
    integrations: tuple[SourceIntegration, ...] = ()


@dataclass(frozen=True)
class SourceShift:
    """The product's own rendering of its final rota: `user_ids` cover `schedule_id`
    over [start, end) (empty: nobody)."""

    schedule_id: str
    start: datetime
    end: datetime
    user_ids: tuple[str, ...]


@dataclass(frozen=True)
class Skipped:
    """Something the source has that opsdesk cannot take, and why."""

    source_kind: str
    source_id: str
    why: str


@dataclass
class SourceTeam:
    """Everything one importer read from one product."""

    product: str
    users: list[SourceUser] = field(default_factory=list)
    schedules: list[SourceSchedule] = field(default_factory=list)
    policies: list[SourcePolicy] = field(default_factory=list)
    services: list[SourceService] = field(default_factory=list)
    overrides: list[SourceOverride] = field(default_factory=list)
    final_shifts: dict[str, list[SourceShift]] = field(default_factory=dict)
    """By schedule id; only schedules whose rendering was fetched."""
    final_window: Window | None = None
    skipped: list[Skipped] = field(default_factory=list)


class Importer(Protocol):
    """One product. `product` is its command-line name (`grafana-oncall`)."""

    product: str
    title: str
    """How people call it (`Grafana OnCall`)."""

    def auth_headers(self, token: str) -> dict[str, str]:
        """The headers that carry the token (OnCall: `Authorization: <token>`,
        PagerDuty: `Token token=<token>`, Opsgenie: `GenieKey <token>`)."""
        ...

    def endpoints(self, window: Window | None) -> Sequence[Endpoint]:
        """Every call to make, in order (an `each` endpoint after the one it walks);
        the final-rota calls only with a `window`."""
        ...

    def parse(self, bundle: Bundle, window: Window | None) -> SourceTeam:
        """The team in the bundle; the final rota only when `window` is given."""
        ...
