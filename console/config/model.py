"""The configuration as typed records: one dataclass per TOML section.

"Config is code": static definitions (people, roles, SLA policy, services, vendors and
their status sources, schedules, escalation, freeze windows, approval rules) live here;
what changes during operations lives in the store. Every section is optional, so an
empty file (or none) is a valid configuration.

Each field's `doc` metadata says what its key means: `console.config.reference` builds the
key table of docs/configuration.md from it, and tests/test_docs.py fails when a key has none.
(`key` renames a field in TOML; `each` names a table's keys, `shown_key` documents a field
as the keys it stands for.)

Annotations are evaluated when the classes are made (no `from __future__ import
annotations`): the schema reads every field's type to parse a config, and resolving ~300
annotation strings on each start cost more than evaluating them once here.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from opsdesk.console.config.durations import format_duration, parse_duration
from opsdesk.console.config.schema import Parser
from opsdesk.store.value import Value

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


@dataclass(eq=False, repr=False)
class StoreConfig(Value):
    """Where the store lives; `group` makes it 0660 for a team sharing one host."""

    path: str | None = field(
        default=None,
        metadata={
            "doc": "The SQLite store file, relative to the config file's folder; `--store` "
            "overrides it. None: `~/.local/share/opsdesk/opsdesk.db`."
        },
    )
    url: str | None = field(
        default=None,
        metadata={
            "doc": "A PostgreSQL store instead of a file: `postgresql://[user@]host/db` or "
            "`postgresql:///db?host=/run/postgresql` (peer authentication over the local "
            "socket); needs `pip install 'opsdesk[postgres]'`. Set `path` or `url`, not both. "
            "docs/operations.md sets one up."
        },
    )
    group: str | None = field(
        default=None,
        metadata={
            "doc": "Create the store `0660` owned by this group, for a team sharing one host "
            "(the folder must be group-writable). None: `0600`."
        },
    )


@dataclass(eq=False, repr=False)
class UiConfig(Value):
    """Terminal behaviour. Mouse is off by default so people can select text over SSH."""

    theme: str = field(
        default="textual-dark",
        metadata={
            "doc": "Any Textual theme: `textual-light`, `ansi-dark`, `nord`, ... (`:theme`)."
        },
    )
    mouse: bool = field(
        default=False,
        metadata={"doc": "Capture the mouse (`--mouse` for one run); off, you can select text."},
    )
    animations: bool = field(
        default=False, metadata={"doc": "Animate (off saves traffic on slow links)."}
    )
    bell: bool = field(default=True, metadata={"doc": "Ring the terminal bell on a new P1."})
    clock: bool = field(default=True, metadata={"doc": "Show the clock in the header."})


@dataclass(eq=False, repr=False)
class Restriction(Value):
    """A window a layer is on call in (e.g. weekdays 09:00-17:00); outside it, nobody."""

    days: list[Weekday] = field(
        default_factory=lambda: list(WEEKDAYS),
        metadata={"doc": "Days the window starts on."},
    )
    from_: ClockTime = field(
        default=time(0, 0), metadata={"key": "from", "doc": "Window start, local time."}
    )
    to: ClockTime = field(
        default=time(0, 0),
        metadata={"doc": "Window end; at or before `from`, it ends the next day (equal: all day)."},
    )


Urgency = Literal["high", "low"]
Channel = Annotated[str, Parser(lambda v: _channel(v))]


def _channel(value: Any) -> str:
    if isinstance(value, str) and value and value.replace("_", "").replace("-", "").isalnum():
        return value
    raise ValueError(
        f"expected a channel name (email, ntfy, webhook or a notifier's), got {value!r}"
    )


@dataclass(eq=False, repr=False)
class NotifyRule(Value):
    """How a person wants to be reached when paged: by which method, how long after the
    page, for which urgency (P1/P2 pages are high urgency, P3/P4 low)."""

    method: Channel = field(
        metadata={"doc": "`email`, `ntfy`, `webhook`, or an installed notifier's name."}
    )
    after: Duration = field(
        default=timedelta(0), metadata={"doc": "How long after the page this method is used."}
    )
    urgency: Literal["high", "low", "any"] = field(
        default="any", metadata={"doc": "Which pages the rule is for."}
    )


@dataclass(eq=False, repr=False)
class Person(Value):
    """Someone on the team: their login, how to reach them, and when they may be paged."""

    login: str = field(
        metadata={"doc": "The OS account name the person logs in with; unique.", "kind": "name"}
    )
    name: str = field(
        default="", metadata={"doc": "Full name, shown beside the login.", "kind": "name"}
    )
    email: str = field(
        default="",
        metadata={"doc": "Email address: shown in escalation chains, and pages by email."},
    )
    phone: str = field(
        default="", metadata={"doc": "Phone number, as text: shown in escalation chains."}
    )
    ntfy: str = field(
        default="",
        metadata={
            "doc": "ntfy topic pages go to (on `[notify.ntfy] server`); keep it unguessable."
        },
    )
    webhook: str = field(
        default="",
        metadata={"doc": "A URL pages are posted to as JSON (Slack and Mattermost accept it)."},
    )
    contacts: dict[str, str] = field(
        default_factory=dict,
        metadata={
            "doc": "Addresses for installed notifiers, by notifier name "
            '(`apprise = "tgram://..."`).',
            "each": "notifier",
        },
    )
    notify: list[NotifyRule] = field(
        default_factory=list,
        metadata={
            "doc": "When a page reaches them, by which method (none: every method they have, "
            "at once, for both urgencies)."
        },
    )
    working_hours: Restriction | None = field(
        default=None,
        metadata={
            "doc": "When low-urgency pages may reach them, in their `timezone` (none: any time)."
        },
    )
    timezone: ZoneName = field(
        default="UTC", metadata={"doc": "On-call times are shown to them in this zone."}
    )

    def addresses(self) -> dict[str, str]:
        """Every method the person can be reached by, with the address for it."""
        built_in = {"email": self.email, "ntfy": self.ntfy, "webhook": self.webhook}
        return {m: a for m, a in {**built_in, **self.contacts}.items() if a}


@dataclass(eq=False, repr=False)
class Roles(Value):
    """Logins per role. Everyone is an engineer; `engineer` may list people for clarity."""

    admin: list[str] = field(default_factory=list, metadata={"doc": "Logins that hold every role."})
    lead: list[str] = field(
        default_factory=list,
        metadata={
            "doc": "Team leads: the banner, overrides for others, lead approvals of changes."
        },
    )
    cab: list[str] = field(
        default_factory=list,
        metadata={"doc": "The change advisory board: CAB approvals of changes."},
    )
    engineer: list[str] = field(
        default_factory=list,
        metadata={"doc": "Everyone is an engineer; listing people here is only for clarity."},
    )


def _default_matrix() -> list[list[Priority]]:
    return [["P1", "P2", "P3"], ["P2", "P3", "P4"], ["P3", "P4", "P4"]]


@dataclass(eq=False, repr=False)
class PriorityConfig(Value):
    """Rows are impact 1 (widespread) to 3 (single user); columns urgency 1 to 3."""

    matrix: list[list[Priority]] = field(
        default_factory=_default_matrix,
        metadata={
            "doc": "3 rows (impact 1 = widespread to 3 = one user) of 3 priorities (urgency "
            "1 = now to 3 = can wait)."
        },
    )


@dataclass(eq=False, repr=False)
class BusinessCalendar(Value):
    """Working days and hours in one zone: an SLA target on this calendar counts only them."""

    timezone: ZoneName = field(metadata={"doc": "The zone its working hours are in."})
    days: list[Weekday] = field(
        default_factory=lambda: list(WEEKDAYS[:5]), metadata={"doc": "Working days."}
    )
    from_: ClockTime = field(
        default=time(9, 0), metadata={"key": "from", "doc": "Working hours start."}
    )
    to: ClockTime = field(
        default=time(17, 0), metadata={"doc": "Working hours end (after `from`)."}
    )
    holidays: list[date] = field(
        default_factory=list, metadata={"doc": "Dates that are not working days."}
    )


@dataclass(eq=False, repr=False)
class SlaTarget(Value):
    """The respond and resolve targets of one priority, in wall-clock or business time."""

    respond: Duration = field(metadata={"doc": "Time to the first acknowledgement."})
    resolve: Duration = field(
        metadata={"doc": "Time to resolution; the clock pauses while the incident is on hold."}
    )
    calendar: str = field(
        default="24x7",
        metadata={
            "doc": '`"24x7"` counts every minute; the name of an `[sla.calendars.<name>]` '
            'counts its working time only (`"8h"` is one 09:00-17:00 day).'
        },
    )


def _default_sla() -> dict[Priority, SlaTarget]:
    hours = timedelta(hours=1)
    return {
        "P1": SlaTarget(respond=hours / 4, resolve=4 * hours),
        "P2": SlaTarget(respond=hours / 2, resolve=8 * hours),
        "P3": SlaTarget(respond=4 * hours, resolve=72 * hours),
        "P4": SlaTarget(respond=24 * hours, resolve=240 * hours),
    }


@dataclass(eq=False, repr=False)
class SlaConfig(Value):
    """Respond and resolve targets per priority, and the business calendars they count in."""

    priorities: dict[Priority, SlaTarget] = field(
        default_factory=_default_sla,
        metadata={
            "doc": "SLA targets per priority. Giving any replaces the defaults: give all four."
        },
    )
    calendars: dict[str, BusinessCalendar] = field(
        default_factory=dict,
        metadata={
            "doc": "Business-hours calendars by name, for `calendar` above.",
            "each": "name",
        },
    )


@dataclass(eq=False, repr=False)
class QueueConfig(Value):
    """How the incident queue behaves: reopening, assignment and what it shows."""

    reopen_days: int = field(
        default=7,
        metadata={"doc": "How many days a resolved incident can be reopened.", "min": 0},
    )
    auto_assign: bool = field(
        default=False,
        metadata={
            "doc": "Assign a new incident to whoever its service's escalation policy pages first."
        },
    )
    auto_escalate: bool = field(
        default=True,
        metadata={
            "doc": "Move an incident nobody acknowledged to the next level when that level's "
            "delay has passed (done by any console that is open, once)."
        },
    )


@dataclass(eq=False, repr=False)
class Service(Value):
    """Something the team runs: incidents, changes and policies name it."""

    name: str = field(
        metadata={"doc": "What incidents, changes and policies call it; unique.", "kind": "name"}
    )
    tier: Literal[1, 2, 3] = field(
        default=3, metadata={"doc": "How critical it is, 1 (most) to 3."}
    )
    description: str = field(default="", metadata={"doc": "One line for people."})
    vendors: list[str] = field(
        default_factory=list,
        metadata={"doc": "Vendors it depends on (names from `[[vendors]]`)."},
    )
    sla_target: float | None = field(
        default=None,
        metadata={
            "doc": "SLA attainment target in percent for the service review "
            "(none: `[service_review] sla_target`)."
        },
    )
    mttr_target: Duration | None = field(
        default=None,
        metadata={"doc": "Median time to resolve it should stay under (none: the review's)."},
    )
    csat_target: float | None = field(
        default=None,
        metadata={"doc": "Average CSAT (1 to 5) it should reach (none: the review's)."},
    )
    cost_per_hour: float | None = field(
        default=None,
        metadata={
            "doc": "What an hour of its downtime costs the business, in `[service_review] "
            "currency` (none: outages are not costed)."
        },
    )


@dataclass(eq=False, repr=False)
class Contract(Value):
    """What a vendor costs and when it renews, for the vendors screen and the service review."""

    cost: float = field(metadata={"doc": "What one period costs.", "min": 0})
    renewal: date = field(metadata={"doc": "The next renewal date."})
    currency: str = field(default="USD", metadata={"doc": "Currency of `cost`."})
    period: Literal["monthly", "yearly"] = field(
        default="yearly", metadata={"doc": "What `cost` pays for."}
    )
    notice: Duration = field(
        default=timedelta(days=90),
        metadata={"doc": "Notice period; the renewal is flagged once inside it."},
    )
    sla: str = field(default="", metadata={"doc": "The vendor's SLA, as text for people."})
    availability: float | None = field(
        default=None,
        metadata={"doc": "Contracted availability in percent, e.g. 99.9 (none: not contracted)."},
    )
    budget: float | None = field(
        default=None,
        metadata={"doc": "Yearly budget for the contract, in `currency` (none: no budget)."},
    )


@dataclass(eq=False, repr=False)
class Support(Value):
    """How to reach a vendor's support."""

    phone: str = field(default="", metadata={"doc": "Support phone."})
    email: str = field(default="", metadata={"doc": "Support email."})
    portal: str = field(default="", metadata={"doc": "Support portal URL."})
    account_manager: str = field(default="", metadata={"doc": "Your account manager."})


@dataclass(eq=False, repr=False)
class StatusSource(Value):
    """One monitoring or status endpoint, read by the plugin it names. Any other key in
    its table is an option of that plugin (checked against the plugin's own Options)."""

    name: str = field(
        metadata={"doc": "Unique; `opsdesk poll --source NAME` uses it.", "kind": "name"}
    )
    plugin: str = field(
        metadata={"doc": "The plugin that reads it (`opsdesk plugins list` shows them)."}
    )
    url: Url = field(metadata={"doc": "The endpoint, `http://` or `https://`."})
    interval: Duration = field(
        default=timedelta(seconds=60), metadata={"doc": "How often to poll (at least 5s)."}
    )
    timeout: Duration = field(
        default=timedelta(seconds=10), metadata={"doc": "How long one attempt may take."}
    )
    retries: int = field(
        default=2,
        metadata={"doc": "Further attempts when one fails, with backoff.", "min": 0},
    )
    vendor: str | None = field(
        default=None,
        metadata={"doc": "Whose status it is (a `[[vendors]]` name); none: your own monitoring."},
    )
    service: str | None = field(
        default=None,
        metadata={
            "doc": "The service it concerns (a `[[services]]` name); alerts without a service "
            "label open incidents here."
        },
    )
    token_env: str = field(
        default="",
        metadata={"doc": "An environment variable holding a token, sent only to this source."},
    )
    token_header: str = field(
        default="Authorization",
        metadata={"doc": "Where the token goes; `Authorization` sends `Bearer <token>`."},
    )
    ca_bundle: str = field(
        default="", metadata={"doc": "A CA file to verify this source's TLS certificate."}
    )
    options: dict[str, Any] = field(
        default_factory=dict,
        metadata={
            "doc": "Any other key is an option of the plugin, checked against its Options "
            "when config loads (see docs/plugins.md).",
            "shown_key": "<plugin option>",
        },
    )


@dataclass(eq=False, repr=False)
class PluginsConfig(Value):
    """Status plugins loaded from files (installed packages need nothing here)."""

    files: list[str] = field(
        default_factory=list,
        metadata={
            "doc": "Python files with Adapter classes, loaded as plugins (their code runs with "
            "your rights, like an installed package)."
        },
    )


@dataclass(eq=False, repr=False)
class Vendor(Value):
    """A supplier: its contract, its support, and the services that depend on it."""

    name: str = field(metadata={"doc": "Unique; services and sources refer to it.", "kind": "name"})
    description: str = field(default="", metadata={"doc": "One line for people."})
    contract: Contract | None = field(
        default=None, metadata={"doc": "Cost and renewal; none: no contract shown."}
    )
    support: Support = field(default_factory=Support, metadata={"doc": "Support contacts."})


@dataclass(eq=False, repr=False)
class Layer(Value):
    """One rotation of a schedule: its members take turns of a fixed length from `start`."""

    name: str = field(metadata={"doc": "What the rota calls it.", "kind": "name"})
    members: list[str] = field(
        metadata={"doc": 'Logins taking turns, in order; `""` is a turn of nobody.'}
    )
    rotation: Duration = field(metadata={"doc": "How long each turn lasts."})
    start: LocalDateTime = field(
        metadata={"doc": "When the first member's first turn starts, in the schedule's zone."}
    )
    restrict: Restriction | None = field(
        default=None,
        metadata={"doc": "Cover only in this weekly window (none: all the time)."},
    )
    restrictions: list[Restriction] = field(
        default_factory=list,
        metadata={
            "doc": "More windows, as `restrict`: the layer covers in any of them (with "
            "`restrict`, in that one too); none: all the time."
        },
    )
    active_from: LocalDateTime | None = field(
        default=None,
        metadata={
            "doc": "Cover only from this local time (none: from `start`); turns still "
            "count from `start`."
        },
    )
    until: LocalDateTime | None = field(
        default=None,
        metadata={"doc": "Stop covering at this local time (none: never)."},
    )
    timezone: ZoneName | None = field(
        default=None,
        metadata={
            "doc": "The zone of this layer's `start`, handoffs and windows (none: the schedule's)."
        },
    )

    def windows(self) -> list[Restriction]:
        """Every restriction window of the layer (empty: it covers all the time)."""
        return ([self.restrict] if self.restrict is not None else []) + list(self.restrictions)


NOBODY = ""
"""A layer member that is nobody: that turn the layer covers no one (lower layers show)."""


@dataclass(eq=False, repr=False)
class Schedule(Value):
    """An on-call rota: layers of rotations in one time zone, with overrides on top."""

    name: str = field(metadata={"doc": "Unique; escalation levels refer to it.", "kind": "name"})
    timezone: ZoneName = field(
        metadata={"doc": "Handoffs happen at the same wall-clock time here, across DST."}
    )
    layers: list[Layer] = field(
        default_factory=list,
        metadata={"doc": "Rotations; a later layer wins where it has someone."},
    )


@dataclass(eq=False, repr=False)
class EscalationLevel(Value):
    """One level of a policy: whom it pages (a schedule or people) and how long after."""

    after: Duration = field(
        metadata={
            "doc": "How long after the incident opened (or the policy started again) it is "
            "paged; levels go in order of it."
        }
    )
    schedule: str | None = field(
        default=None, metadata={"doc": "Page whoever is on call in this schedule..."}
    )
    person: str | None = field(
        default=None, metadata={"doc": "...or this login (exactly one of the two)."}
    )


@dataclass(eq=False, repr=False)
class EscalationPolicy(Value):
    """Who is paged for a service's incidents, level by level, until someone acknowledges."""

    service: str = field(metadata={"doc": "The service (a `[[services]]` name)."})
    levels: list[EscalationLevel] = field(
        metadata={"doc": "Who is paged, in order (also written `levels = [{ ... }]`)."}
    )
    repeat: int = field(
        default=0,
        metadata={
            "doc": "Start again from level 1 this many times while nobody acknowledges.",
            "min": 0,
        },
    )
    repeat_after: Duration = field(
        default=timedelta(minutes=30),
        metadata={"doc": "How long after the last level pages the policy starts again."},
    )


@dataclass(eq=False, repr=False)
class FreezeWindow(Value):
    """A time when changes should not go ahead: a change in it is shown as a conflict."""

    name: str = field(
        metadata={"doc": "Shown beside changes that conflict with it.", "kind": "name"}
    )
    start: AwareDateTime = field(metadata={"doc": "Start, with an offset (`Z`, `+01:00`)."})
    end: AwareDateTime = field(metadata={"doc": "End, after `start`."})
    services: list[str] | None = field(
        default=None, metadata={"doc": "Services frozen; none: all of them."}
    )


@dataclass(eq=False, repr=False)
class ApprovalRule(Value):
    """Approvals a change needs, by type and risk (all risks when `risk` is absent)."""

    type: ChangeType = field(metadata={"doc": "The change type this rule is for."})
    risk: list[Risk] = field(
        default_factory=lambda: ["low", "medium", "high"],
        metadata={"doc": "The risks it is for."},
    )
    cab: int = field(default=0, metadata={"doc": "CAB approvals needed.", "min": 0})
    lead: int = field(default=0, metadata={"doc": "Lead approvals needed.", "min": 0})
    review_after: bool = field(
        default=False,
        metadata={
            "doc": "A CAB member reviews it afterwards (`change approve` once it has run); "
            "it cannot close before."
        },
    )


@dataclass(eq=False, repr=False)
class RiskQuestion(Value):
    """A yes/no question; a "yes" adds `weight` to the change's risk score."""

    id: str = field(metadata={"doc": "What `opsdesk change new --yes ID` answers.", "kind": "name"})
    text: str = field(metadata={"doc": "The question."})
    weight: int = field(default=1, metadata={"doc": "Added to the score on a yes."})


@dataclass(eq=False, repr=False)
class RiskThresholds(Value):
    """The questionnaire scores from which a change's risk is medium or high."""

    medium: int = field(
        default=3, metadata={"doc": "Score from which the risk is medium.", "min": 0}
    )
    high: int = field(default=6, metadata={"doc": "Score from which the risk is high.", "min": 0})


@dataclass(eq=False, repr=False)
class ChangesConfig(Value):
    """How changes are approved (rules by type and risk) and how their risk is scored."""

    approval_rules: list[ApprovalRule] = field(
        default_factory=list,
        metadata={
            "doc": "The first rule matching a change's type and risk applies; with none, "
            "standard changes need no approval and others one CAB approval."
        },
    )
    risk_questions: list[RiskQuestion] = field(
        default_factory=list,
        metadata={"doc": "The questionnaire that scores a change's risk."},
    )
    risk_thresholds: RiskThresholds = field(
        default_factory=RiskThresholds, metadata={"doc": "Score to risk level."}
    )


IntegrationKind = Literal["alertmanager", "grafana", "pagerduty", "webhook"]


@dataclass(eq=False, repr=False)
class WebhookFields(Value):
    """Where a generic webhook's JSON keeps each thing: dotted paths (`alert.labels.host`,
    `items.0.name`)."""

    title: str = field(default="title", metadata={"doc": "The alert's title."})
    dedup_key: str = field(
        default="id", metadata={"doc": "What identifies the alert across sends."}
    )
    description: str = field(default="", metadata={"doc": "More text (none: no description)."})
    service: str = field(default="", metadata={"doc": "The service's name (none: `service`)."})
    severity: str = field(default="", metadata={"doc": "The severity (none: `default_severity`)."})
    resolved: str = field(
        default="", metadata={"doc": "A field that says the alert is over (none: never)."}
    )
    resolved_values: list[str] = field(
        default_factory=lambda: ["true", "resolved", "ok"],
        metadata={"doc": "Values of `resolved` that mean over (compared as text, any case)."},
    )


@dataclass(eq=False, repr=False)
class Integration(Value):
    """A way in for alerts pushed to `opsdesk serve`: `POST /integrations/NAME` (or
    `POST /v2/enqueue` for `pagerduty`, where the routing key picks the integration)."""

    name: str = field(
        metadata={"doc": "Unique; the last part of its URL, `/integrations/NAME`.", "kind": "name"}
    )
    kind: IntegrationKind = field(
        metadata={"doc": "The payload it takes: `alertmanager`, `grafana`, `pagerduty`, `webhook`."}
    )
    service: str | None = field(
        default=None,
        metadata={"doc": "The service its alerts open incidents on (a `[[services]]` name)."},
    )
    service_label: str = field(
        default="service",
        metadata={"doc": "A label whose value, if it names a service, is used instead."},
    )
    severity_label: str = field(
        default="severity", metadata={"doc": "The label holding the alert's severity."}
    )
    severities: dict[str, Priority] = field(
        default_factory=lambda: {
            "critical": "P1",
            "error": "P2",
            "warning": "P3",
            "info": "P4",
        },
        metadata={"doc": "Severity to priority.", "each": "severity"},
    )
    default_severity: str = field(
        default="warning", metadata={"doc": "The severity of an alert that gives none."}
    )
    auto_resolve: bool = field(
        default=True,
        metadata={"doc": "A resolved alert resolves its incident (false: only notes it)."},
    )
    auth: Literal["bearer", "basic", "routing_key"] | None = field(
        default=None,
        metadata={
            "doc": "How senders prove who they are (none: `routing_key` for pagerduty, else "
            "`bearer`)."
        },
    )
    username: str = field(default="", metadata={"doc": "The user name, for `basic` auth."})
    secret_env: str = field(
        default="",
        metadata={"doc": "An environment variable of `opsdesk serve` holding the secret."},
    )
    secret_file: str = field(
        default="",
        metadata={
            "doc": "Or a file holding it (owner-only, like an SSH key); relative to the "
            "config file's folder."
        },
    )
    rate_limit: int = field(
        default=600, metadata={"doc": "Requests a minute it takes before answering 429."}
    )
    fields: WebhookFields = field(
        default_factory=WebhookFields,
        metadata={"doc": "For `webhook`: where each thing is in the JSON."},
    )

    @property
    def auth_kind(self) -> str:
        return self.auth or ("routing_key" if self.kind == "pagerduty" else "bearer")


@dataclass(eq=False, repr=False)
class ServeConfig(Value):
    """`opsdesk serve`: where it listens and how its acknowledgement links look."""

    listen: str = field(
        default="127.0.0.1:8787", metadata={"doc": "host:port to listen on (`--listen`)."}
    )
    public_url: str = field(
        default="",
        metadata={
            "doc": "The URL people reach it by (behind a TLS proxy, say); acknowledgement "
            "links start with it. None: `http://` + `listen`."
        },
    )
    link_lifetime: Duration = field(
        default=timedelta(hours=24),
        metadata={"doc": "How long an acknowledgement link works."},
    )
    max_body: int = field(
        default=1_048_576, metadata={"doc": "Largest request body taken, in bytes (413 above)."}
    )
    key_file: str = field(
        default="",
        metadata={
            "doc": "The key that signs acknowledgement links (none: `serve.key` beside the "
            "store, made owner-only on first use)."
        },
    )
    tick: Duration = field(
        default=timedelta(seconds=5),
        metadata={"doc": "How often escalation and delivery look for work."},
    )


@dataclass(eq=False, repr=False)
class EmailSettings(Value):
    """The SMTP server pages by email go through."""

    smtp_host: str = field(default="localhost", metadata={"doc": "The SMTP server."})
    smtp_port: int = field(default=25, metadata={"doc": "Its port.", "min": 1, "max": 65535})
    security: Literal["none", "starttls", "tls"] = field(
        default="none", metadata={"doc": "`starttls`, `tls` (implicit, port 465) or `none`."}
    )
    sender: str = field(default="opsdesk@localhost", metadata={"doc": "The From address."})
    username: str = field(default="", metadata={"doc": "SMTP login (none: no login)."})
    password_env: str = field(
        default="", metadata={"doc": "An environment variable holding the SMTP password."}
    )


@dataclass(eq=False, repr=False)
class NtfySettings(Value):
    """The ntfy server pages by push notification go through."""

    server: Url = field(default="https://ntfy.sh", metadata={"doc": "The ntfy server."})
    token_env: str = field(
        default="", metadata={"doc": "An environment variable holding an ntfy access token."}
    )


@dataclass(eq=False, repr=False)
class NotifyConfig(Value):
    """How pages are delivered."""

    email: EmailSettings = field(default_factory=EmailSettings, metadata={"doc": "Email."})
    ntfy: NtfySettings = field(default_factory=NtfySettings, metadata={"doc": "ntfy."})
    attempts: int = field(
        default=5, metadata={"doc": "Tries per notification before it is marked failed."}
    )
    timeout: Duration = field(
        default=timedelta(seconds=10), metadata={"doc": "How long one try may take."}
    )
    options: dict[str, dict[str, Any]] = field(
        default_factory=dict,
        metadata={"doc": "Settings of installed notifiers, by name.", "each": "notifier"},
    )


RoleName = Literal["admin", "lead", "cab", "engineer"]


@dataclass(eq=False, repr=False)
class ProblemsConfig(Value):
    """Problem management: when recurring incidents are proposed as a problem, and who
    may close one. Two incidents on one service are alike when the words of their titles
    (lower case, without numbers and filler words) overlap by at least `title_similarity`
    (shared words / all words, the Jaccard index); the words they share name the candidate."""

    min_incidents: int = field(
        default=3,
        metadata={
            "doc": "How many alike incidents (or incidents from one alert) within `window` "
            "make a candidate problem (at least 2)."
        },
    )
    window: Duration = field(
        default=timedelta(days=30),
        metadata={"doc": "How far back candidates look, from now."},
    )
    title_similarity: float = field(
        default=0.5,
        metadata={
            "doc": "Share of title words two incidents on one service must have in common "
            "to count as alike: above 0, at most 1 (every word)."
        },
    )
    close_role: RoleName = field(
        default="lead",
        metadata={"doc": "The role that may close a problem (admins hold every role)."},
    )


@dataclass(eq=False, repr=False)
class ReviewsConfig(Value):
    """Post-incident reviews: which incidents need one before they close, by when, and who
    accepts one."""

    required_for: list[Priority] = field(
        default_factory=lambda: ["P1", "P2"],
        metadata={"doc": "Priorities whose incidents need an accepted review before they close."},
    )
    due_business_days: int = field(
        default=5,
        metadata={
            "doc": "Business days after resolving by which the review is due; past it, overdue."
        },
    )
    calendar: str = field(
        default="",
        metadata={
            "doc": "The `[sla.calendars.<name>]` whose working days and holidays count as "
            "business days; none: Monday to Friday, UTC."
        },
    )
    accept_role: RoleName = field(
        default="lead",
        metadata={"doc": "The role that may accept a review (admins hold every role)."},
    )


@dataclass(eq=False, repr=False)
class ServiceReviewConfig(Value):
    """The monthly service review (`opsdesk report review`): the team's zone and working
    hours, the targets each service is judged against, and how outages are costed."""

    timezone: ZoneName | None = field(
        default=None,
        metadata={
            "doc": "Months and out-of-hours are read in this zone (none: the zone of the "
            "`business_hours` calendar, else of the first `[sla.calendars.<name>]`, else UTC)."
        },
    )
    business_hours: str = field(
        default="",
        metadata={
            "doc": "The `[sla.calendars.<name>]` whose hours are not out of hours (none: "
            "Monday to Friday, 09:00 to 17:00 in `timezone`)."
        },
    )
    sla_target: float = field(
        default=95.0, metadata={"doc": "SLA attainment target in percent, for every service."}
    )
    mttr_target: Duration = field(
        default=timedelta(days=1),
        metadata={"doc": "Median time to resolve (all priorities) a service should stay under."},
    )
    csat_target: float = field(
        default=4.0, metadata={"doc": "Average CSAT (1 to 5) every service should reach."}
    )
    amber_margin: float = field(
        default=10.0,
        metadata={
            "doc": "How far, in percent of the target, a figure may miss it and be amber "
            "rather than red."
        },
    )
    outage_priorities: list[Priority] = field(
        default_factory=lambda: ["P1"],
        metadata={"doc": "Incidents of these priorities count as downtime of their service."},
    )
    currency: str = field(
        default="USD", metadata={"doc": "Currency of the services' `cost_per_hour`."}
    )


@dataclass(eq=False, repr=False)
class Config(Value):
    """The whole configuration, one field per TOML section; every section has defaults."""

    store: StoreConfig = field(
        default_factory=StoreConfig, metadata={"doc": "Where the store lives."}
    )
    ui: UiConfig = field(default_factory=UiConfig, metadata={"doc": "Terminal behaviour."})
    keys: dict[str, str] = field(
        default_factory=dict,
        metadata={
            "doc": 'Rebind a key by its binding id (`"screen.oncall" = "O"`); `?` in the '
            "console lists the ids.",
            "each": "binding id",
        },
    )
    people: list[Person] = field(
        default_factory=list,
        metadata={
            "doc": "The team. When given, roles, members and escalation people must be in it."
        },
    )
    roles: Roles = field(
        default_factory=Roles,
        metadata={"doc": "Logins per role; everyone is an engineer."},
    )
    priority: PriorityConfig = field(
        default_factory=PriorityConfig,
        metadata={"doc": "Priority from impact and urgency."},
    )
    sla: SlaConfig = field(
        default_factory=SlaConfig, metadata={"doc": "SLA targets and business hours."}
    )
    queue: QueueConfig = field(
        default_factory=QueueConfig, metadata={"doc": "Incident queue behaviour."}
    )
    services: list[Service] = field(
        default_factory=list, metadata={"doc": "What you run and whom it depends on."}
    )
    vendors: list[Vendor] = field(
        default_factory=list,
        metadata={"doc": "Contracts and contacts; their status comes from `[[sources]]`."},
    )
    sources: list[StatusSource] = field(
        default_factory=list,
        metadata={"doc": "Status pages and monitoring, each read by a plugin."},
    )
    plugins: PluginsConfig = field(
        default_factory=PluginsConfig,
        metadata={"doc": "Plugins from files (installed packages need nothing here)."},
    )
    schedules: list[Schedule] = field(default_factory=list, metadata={"doc": "On-call rotations."})
    escalation_policies: list[EscalationPolicy] = field(
        default_factory=list,
        metadata={"doc": "Who is paged for a service, level by level."},
    )
    freeze_windows: list[FreezeWindow] = field(
        default_factory=list,
        metadata={"doc": "Changes in them conflict (emergency changes go ahead, flagged)."},
    )
    changes: ChangesConfig = field(
        default_factory=ChangesConfig,
        metadata={"doc": "Approval rules and the risk questionnaire."},
    )
    integrations: list[Integration] = field(
        default_factory=list,
        metadata={"doc": "Ways in for alerts pushed to `opsdesk serve`."},
    )
    serve: ServeConfig = field(
        default_factory=ServeConfig, metadata={"doc": "The alert receiver and pager."}
    )
    notify: NotifyConfig = field(
        default_factory=NotifyConfig, metadata={"doc": "How pages are delivered."}
    )
    problems: ProblemsConfig = field(
        default_factory=ProblemsConfig,
        metadata={"doc": "Problems: candidate thresholds and who may close one."},
    )
    reviews: ReviewsConfig = field(
        default_factory=ReviewsConfig,
        metadata={"doc": "Post-incident reviews: which incidents need one, when, who accepts."},
    )
    service_review: ServiceReviewConfig = field(
        default_factory=ServiceReviewConfig,
        metadata={"doc": "The monthly service review: team zone, targets, outage cost."},
    )

    def person(self, login: str) -> Person | None:
        return next((p for p in self.people if p.login == login), None)

    def policy(self, service: str) -> EscalationPolicy | None:
        return next((p for p in self.escalation_policies if p.service == service), None)

    def integration(self, name: str) -> Integration | None:
        return next((i for i in self.integrations if i.name == name), None)

    def service(self, name: str) -> Service | None:
        return next((s for s in self.services if s.name == name), None)
