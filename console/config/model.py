"""The configuration as typed records: one dataclass per TOML section.

"Config is code": static definitions (people, roles, SLA policy, services, vendors and
their status sources, schedules, escalation, freeze windows, approval rules) live here;
what changes during operations lives in the store. Every section is optional, so an
empty file (or none) is a valid configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from opsdesk.console.config.durations import format_duration, parse_duration
from opsdesk.console.config.schema import Parser

Priority = Literal["P1", "P2", "P3", "P4"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ChangeType = Literal["standard", "normal", "emergency"]
Risk = Literal["low", "medium", "high"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _duration(value: Any) -> timedelta:
    if not isinstance(value, str):
        raise ValueError(f'expected a duration like "15m", "4h" or "1d", got {value!r}')
    return parse_duration(value)


def _clock(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            hours, minutes = value.split(":")
            return time(int(hours), int(minutes))
        except ValueError:
            pass
    raise ValueError(f'expected a time of day like "09:00", got {value!r}')


def _zone(value: Any) -> str:
    if isinstance(value, str) and value:
        try:
            ZoneInfo(value)
            return value
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise ValueError(f'expected an IANA time zone like "Europe/Berlin", got {value!r}')


def _aware(value: Any) -> datetime:
    parsed = value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
    if isinstance(parsed, datetime) and parsed.tzinfo is not None:
        return parsed
    if isinstance(parsed, datetime):
        raise ValueError(f"expected a date-time with an offset (Z or +01:00), got {value!r}")
    raise ValueError(f'expected a date-time like "2026-12-20T18:00:00Z", got {value!r}')


def _local(value: Any) -> datetime:
    parsed = value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
    if isinstance(parsed, datetime) and parsed.tzinfo is None:
        return parsed
    if isinstance(parsed, datetime):
        raise ValueError(f"expected a local date-time without an offset, got {value!r}")
    raise ValueError(f'expected a local date-time like "2026-03-06T09:00", got {value!r}')


def _url(value: Any) -> str:
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return value
    raise ValueError(f"expected an http:// or https:// URL, got {value!r}")


Duration = Annotated[timedelta, Parser(_duration, format_duration)]
ClockTime = Annotated[time, Parser(_clock, lambda t: t.strftime("%H:%M"))]
ZoneName = Annotated[str, Parser(_zone)]
AwareDateTime = Annotated[datetime, Parser(_aware)]
LocalDateTime = Annotated[datetime, Parser(_local, lambda d: d.strftime("%Y-%m-%dT%H:%M"))]
Url = Annotated[str, Parser(_url)]


@dataclass
class StoreConfig:
    """Where the store lives; `group` makes it 0660 for a team sharing one host."""

    path: str | None = None
    group: str | None = None


@dataclass
class UiConfig:
    """Terminal behaviour. Mouse is off by default so people can select text over SSH."""

    theme: str = "textual-dark"
    mouse: bool = False
    animations: bool = False
    bell: bool = True
    clock: bool = True


@dataclass
class Person:
    login: str
    name: str = ""
    email: str = ""
    phone: str = ""
    timezone: ZoneName = "UTC"


@dataclass
class Roles:
    """Logins per role. Everyone is an engineer; `engineer` may list people for clarity."""

    admin: list[str] = field(default_factory=list)
    lead: list[str] = field(default_factory=list)
    cab: list[str] = field(default_factory=list)
    engineer: list[str] = field(default_factory=list)


def _default_matrix() -> list[list[Priority]]:
    return [["P1", "P2", "P3"], ["P2", "P3", "P4"], ["P3", "P4", "P4"]]


@dataclass
class PriorityConfig:
    """Rows are impact 1 (widespread) to 3 (single user); columns urgency 1 to 3."""

    matrix: list[list[Priority]] = field(default_factory=_default_matrix)


@dataclass
class BusinessCalendar:
    timezone: ZoneName
    days: list[Weekday] = field(default_factory=lambda: list(WEEKDAYS[:5]))
    from_: ClockTime = field(default=time(9, 0), metadata={"key": "from"})
    to: ClockTime = time(17, 0)
    holidays: list[date] = field(default_factory=list)


@dataclass
class SlaTarget:
    respond: Duration
    resolve: Duration
    calendar: str = "24x7"


def _default_sla() -> dict[Priority, SlaTarget]:
    hours = timedelta(hours=1)
    return {
        "P1": SlaTarget(respond=hours / 4, resolve=4 * hours),
        "P2": SlaTarget(respond=hours / 2, resolve=8 * hours),
        "P3": SlaTarget(respond=4 * hours, resolve=72 * hours),
        "P4": SlaTarget(respond=24 * hours, resolve=240 * hours),
    }


@dataclass
class SlaConfig:
    priorities: dict[Priority, SlaTarget] = field(default_factory=_default_sla)
    calendars: dict[str, BusinessCalendar] = field(default_factory=dict)


@dataclass
class QueueConfig:
    reopen_days: int = 7
    auto_assign: bool = False
    """Assign a new incident to whoever its service's escalation policy pages first."""
    auto_escalate: bool = True
    """Move an incident nobody acknowledged to the next level when that level's delay has
    passed (done by any console that is open, once)."""


@dataclass
class Service:
    name: str
    tier: Literal[1, 2, 3] = 3
    description: str = ""
    vendors: list[str] = field(default_factory=list)


@dataclass
class Contract:
    cost: float
    renewal: date
    currency: str = "USD"
    period: Literal["monthly", "yearly"] = "yearly"
    notice: Duration = timedelta(days=90)
    sla: str = ""


@dataclass
class Support:
    phone: str = ""
    email: str = ""
    portal: str = ""
    account_manager: str = ""


@dataclass
class StatusSource:
    """One monitoring or status endpoint, read by the plugin it names. Any other key in
    its table is an option of that plugin (checked against the plugin's own Options)."""

    name: str
    plugin: str
    url: Url
    interval: Duration = timedelta(seconds=60)
    timeout: Duration = timedelta(seconds=10)
    retries: int = 2
    vendor: str | None = None
    service: str | None = None
    token_env: str = ""
    """An environment variable holding a token, sent only to this source."""
    token_header: str = "Authorization"
    """Where the token goes; "Authorization" sends "Bearer <token>"."""
    ca_bundle: str = ""
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class PluginsConfig:
    files: list[str] = field(default_factory=list)
    """Python files with Adapter classes, loaded as plugins (their code runs with your
    rights, like an installed package)."""


@dataclass
class Vendor:
    name: str
    description: str = ""
    contract: Contract | None = None
    support: Support = field(default_factory=Support)


@dataclass
class Restriction:
    days: list[Weekday] = field(default_factory=lambda: list(WEEKDAYS))
    from_: ClockTime = field(default=time(0, 0), metadata={"key": "from"})
    to: ClockTime = time(0, 0)


@dataclass
class Layer:
    name: str
    members: list[str]
    rotation: Duration
    start: LocalDateTime
    restrict: Restriction | None = None


@dataclass
class Schedule:
    name: str
    timezone: ZoneName
    layers: list[Layer] = field(default_factory=list)


@dataclass
class EscalationLevel:
    after: Duration
    schedule: str | None = None
    person: str | None = None


@dataclass
class EscalationPolicy:
    service: str
    levels: list[EscalationLevel]


@dataclass
class FreezeWindow:
    name: str
    start: AwareDateTime
    end: AwareDateTime
    services: list[str] | None = None


@dataclass
class ApprovalRule:
    """Approvals a change needs, by type and risk (all risks when `risk` is absent)."""

    type: ChangeType
    risk: list[Risk] = field(default_factory=lambda: ["low", "medium", "high"])
    cab: int = 0
    lead: int = 0
    review_after: bool = False


@dataclass
class RiskQuestion:
    """A yes/no question; a "yes" adds `weight` to the change's risk score."""

    id: str
    text: str
    weight: int = 1


@dataclass
class RiskThresholds:
    medium: int = 3
    high: int = 6


@dataclass
class ChangesConfig:
    approval_rules: list[ApprovalRule] = field(default_factory=list)
    risk_questions: list[RiskQuestion] = field(default_factory=list)
    risk_thresholds: RiskThresholds = field(default_factory=RiskThresholds)


@dataclass
class Config:
    store: StoreConfig = field(default_factory=StoreConfig)
    ui: UiConfig = field(default_factory=UiConfig)
    keys: dict[str, str] = field(default_factory=dict)
    people: list[Person] = field(default_factory=list)
    roles: Roles = field(default_factory=Roles)
    priority: PriorityConfig = field(default_factory=PriorityConfig)
    sla: SlaConfig = field(default_factory=SlaConfig)
    queue: QueueConfig = field(default_factory=QueueConfig)
    services: list[Service] = field(default_factory=list)
    vendors: list[Vendor] = field(default_factory=list)
    sources: list[StatusSource] = field(default_factory=list)
    plugins: PluginsConfig = field(default_factory=PluginsConfig)
    schedules: list[Schedule] = field(default_factory=list)
    escalation_policies: list[EscalationPolicy] = field(default_factory=list)
    freeze_windows: list[FreezeWindow] = field(default_factory=list)
    changes: ChangesConfig = field(default_factory=ChangesConfig)

    def person(self, login: str) -> Person | None:
        return next((p for p in self.people if p.login == login), None)

    def policy(self, service: str) -> EscalationPolicy | None:
        return next((p for p in self.escalation_policies if p.service == service), None)

    def service(self, name: str) -> Service | None:
        return next((s for s in self.services if s.name == name), None)
