"""Alerts pushed to `opsdesk serve`, turned into normalized records.

Four payload kinds, one per `Integration.kind`:

- `alertmanager`: the Alertmanager webhook (version "4"): one record per entry of `alerts`,
  firing or resolved, identified by its fingerprint.
- `grafana`: Grafana Alerting's webhook, the same shape plus Grafana's own fields.
- `pagerduty`: a PagerDuty Events API v2 event (`/v2/enqueue`): trigger, acknowledge or
  resolve, identified by `dedup_key`.
- `webhook`: any JSON object (or array of them), read at the dotted paths of
  `Integration.fields`.

Everything here is untrusted: each text is cleaned (`domain.text`) and capped, and any
shape the parser cannot take raises `InboundError`, whose message names the field. The
parsers are pure; the receiver checks authentication, routing keys, service names and
generates dedup keys for PagerDuty triggers that give none.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from opsdesk.console.config.model import Integration
from opsdesk.console.domain import text as _text

Action = Literal["trigger", "acknowledge", "resolve"]

MAX_TITLE = 300
MAX_DESCRIPTION = 4000
MAX_LABELS = 64
MAX_LABEL_TEXT = 200
MAX_SEVERITY = 64
MAX_DEDUP_KEY = 255  # PagerDuty's limit, applied to every kind
MAX_URL = 2048
MAX_ALERTS = 1000
MAX_DEPTH = 32
MAX_PD_SUMMARY = 1024
PD_SEVERITIES = ("critical", "error", "warning", "info")
PD_ACTIONS: tuple[Action, ...] = ("trigger", "acknowledge", "resolve")
# The webhook payload versions each kind takes (the major number).
VERSIONS = {"alertmanager": "4", "grafana": "1"}
# Lone surrogates (JSON allows "\ud800") cannot be stored as UTF-8; they become U+FFFD.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean(text: str, *, limit: int | None = None) -> str:
    """`domain.text.clean`, with lone surrogates replaced."""
    return _text.clean(_SURROGATE.sub("\ufffd", text), limit=limit)


def _one_line(text: str, limit: int | None = None) -> str:
    """`domain.text.one_line`, with lone surrogates replaced."""
    return _text.one_line(_SURROGATE.sub("\ufffd", text), limit=limit)


@dataclass(frozen=True)
class InboundAlert:
    """One alert as the receiver acts on it: open, acknowledge or resolve an incident."""

    dedup_key: str
    action: Action
    title: str
    description: str
    severity: str
    priority: str
    service: str | None
    labels: dict[str, str]
    started: datetime | None
    url: str | None


class InboundError(ValueError):
    """A payload we cannot take; str() is one line naming the field (e.g.
    'alerts[2].labels: expected an object')."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(_one_line(f"{where}: {problem}", limit=300))
        self.where = where


def parse_alerts(integration: Integration, payload: Any) -> list[InboundAlert]:
    """The alerts in `payload` (parsed JSON) for `integration`'s kind; [] when it has
    none. Raises InboundError, and only that, for anything it cannot take."""
    if not json_depth_ok(payload, MAX_DEPTH):
        raise InboundError("body", f"nested deeper than {MAX_DEPTH} levels")
    kind = integration.kind
    if kind in ("alertmanager", "grafana"):
        return _alertmanager(integration, payload)
    if kind == "pagerduty":
        return [_pagerduty(integration, payload)]
    if kind == "webhook":
        return _webhook(integration, payload)
    raise InboundError("kind", f"unknown integration kind {_one_line(str(kind), limit=40)!r}")


def json_depth_ok(payload: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether `payload` nests lists and objects at most `limit` deep (a scalar is 0, `[]`
    is 1). Iterative, so a 10,000-deep payload is answered, not a RecursionError."""
    stack: list[tuple[Any, int]] = [(payload, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list | tuple):
            children = value
        else:
            continue
        if depth + 1 > limit:
            return False
        stack.extend((child, depth + 1) for child in children)
    return True


# -- Alertmanager and Grafana ------------------------------------------------------------


def _alertmanager(integration: Integration, payload: Any) -> list[InboundAlert]:
    body = _object(payload, "body")
    _check_version(integration.kind, body.get("version"))
    alerts = body.get("alerts")
    if not isinstance(alerts, list):
        raise InboundError("alerts", "expected a list")
    if len(alerts) > MAX_ALERTS:
        raise InboundError("alerts", f"more than {MAX_ALERTS} alerts")
    grafana = integration.kind == "grafana"
    return [
        _one_alert(integration, _object(row, f"alerts[{i}]"), f"alerts[{i}]", grafana)
        for i, row in enumerate(alerts)
    ]


def _check_version(kind: str, version: Any) -> None:
    if version is None:
        return
    if isinstance(version, bool) or not isinstance(version, str | int):
        raise InboundError("version", "expected text")
    wanted = VERSIONS[kind]
    if str(version).strip().split(".")[0] != wanted:
        shown = _one_line(str(version), limit=20)
        raise InboundError("version", f"expected {wanted}, got {shown!r}")


def _one_alert(
    integration: Integration, row: dict[str, Any], where: str, grafana: bool
) -> InboundAlert:
    status = row.get("status")
    if status not in ("firing", "resolved"):
        raise InboundError(f"{where}.status", "expected firing or resolved")
    labels = _strings(row.get("labels"), f"{where}.labels")
    annotations = _strings(row.get("annotations"), f"{where}.annotations")
    fingerprint = row.get("fingerprint")
    if fingerprint is not None and not isinstance(fingerprint, str):
        raise InboundError(f"{where}.fingerprint", "expected a string")
    dedup_key = _dedup_key(fingerprint or "", f"{where}.fingerprint") or fingerprint_of(labels)
    title = (
        _one_line(annotations.get("summary", ""), MAX_TITLE).strip()
        or _one_line(labels.get("alertname", ""), MAX_TITLE).strip()
        or f"alert {dedup_key}"
    )
    extra = []
    if grafana and isinstance(row.get("valueString"), str) and row["valueString"].strip():
        extra.append("values: " + _one_line(row["valueString"], limit=1000))
    links = ("generatorURL", "dashboardURL", "panelURL") if grafana else ("generatorURL",)
    severity, priority = _classify(integration, labels.get(integration.severity_label))
    return InboundAlert(
        dedup_key=dedup_key,
        action="trigger" if status == "firing" else "resolve",
        title=title,
        description=_description(annotations, extra, labels),
        severity=severity,
        priority=priority,
        service=_service(integration, labels),
        labels=_capped(labels),
        started=_time(row.get("startsAt")),
        url=next((u for u in (_url(row.get(k)) for k in links) if u), None),
    )


def _description(annotations: dict[str, str], extra: list[str], labels: dict[str, str]) -> str:
    """The summary and description, the other annotations as "k: v" lines, any `extra`
    lines, then the labels as "k=v" lines."""
    head = [annotations[k] for k in ("summary", "description") if annotations.get(k, "").strip()]
    head += [
        f"{_one_line(k, limit=MAX_LABEL_TEXT)}: {v}"
        for k, v in sorted(annotations.items())
        if k not in ("summary", "description") and v.strip()
    ]
    parts = ["\n".join(_clean(line, limit=MAX_DESCRIPTION) for line in head + extra)]
    parts.append("\n".join(f"{k}={v}" for k, v in sorted(_capped(labels).items())))
    return _clean("\n\n".join(p for p in parts if p), limit=MAX_DESCRIPTION)


def fingerprint_of(labels: dict[str, str]) -> str:
    """A stable 16-hex id from the label set, for alerts that come without a fingerprint
    (the same as the Alertmanager status plugin makes, so polled and pushed alerts meet)."""
    canonical = "\x00".join(f"{k}\x01{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:16]


# -- PagerDuty Events API v2 -------------------------------------------------------------


def _pagerduty(integration: Integration, payload: Any) -> InboundAlert:
    body = _object(payload, "body")
    action = body.get("event_action")
    if action not in PD_ACTIONS:
        raise InboundError("event_action", "expected trigger, acknowledge or resolve")
    raw_key = body.get("dedup_key")
    if raw_key is not None and not isinstance(raw_key, str):
        raise InboundError("dedup_key", "expected a string")
    dedup_key = _dedup_key(raw_key or "", "dedup_key")
    trigger = action == "trigger"
    if not trigger and not dedup_key:
        raise InboundError("dedup_key", "required for acknowledge and resolve")
    details = body.get("payload")
    if trigger:
        details = _object(details, "payload")
    elif not isinstance(details, dict):
        details = {}  # acknowledge and resolve need no payload; one that is odd is ignored
    summary = _pd_text(details, "summary", required=trigger)
    source = _pd_text(details, "source", required=trigger)
    severity = _pd_text(details, "severity", required=trigger).strip().lower()
    if severity not in PD_SEVERITIES:
        if trigger:
            raise InboundError("payload.severity", "expected critical, error, warning or info")
        severity = ""  # acknowledge and resolve: the default severity
    labels = _pd_labels(details, source, strict=trigger)
    severity, priority = _classify(integration, severity)
    body_text = _clean(summary, limit=MAX_PD_SUMMARY)
    lines = _pd_details(details.get("custom_details"))
    description = "\n\n".join(p for p in (body_text, "\n".join(lines)) if p.strip())
    urls = [_url(link.get("href")) for link in _list(body.get("links")) if isinstance(link, dict)]
    return InboundAlert(
        dedup_key=dedup_key,
        action=action,
        title=_one_line(summary, MAX_TITLE).strip() or f"{action} {dedup_key}",
        description=_clean(description, limit=MAX_DESCRIPTION),
        severity=severity,
        priority=priority,
        service=_service(integration, labels),
        labels=_capped(labels),
        started=_time(details.get("timestamp")),
        url=next((u for u in urls if u), None) or _url(body.get("client_url")),
    )


def _pd_text(details: dict[str, Any], key: str, *, required: bool) -> str:
    """payload.`key` as text; a trigger must give it (a non-blank string)."""
    value = details.get(key)
    if isinstance(value, str) and value.strip():
        return value
    if not required:
        return ""
    if value is None or isinstance(value, str):
        raise InboundError(f"payload.{key}", "required")
    raise InboundError(f"payload.{key}", "expected a string")


def _pd_labels(details: dict[str, Any], source: str, *, strict: bool) -> dict[str, str]:
    """custom_details' strings and numbers, then source, component, group and class (which
    win a clash)."""
    labels: dict[str, str] = {}
    custom = details.get("custom_details")
    if isinstance(custom, dict):
        for key, value in custom.items():
            text = _scalar(value, booleans=False)
            if text is not None and len(labels) < MAX_LABELS:
                labels[str(key)] = text
    fixed = {"source": source}
    for key in ("component", "group", "class"):
        value = details.get(key)
        if isinstance(value, str):
            fixed[key] = value
        elif value is not None and strict:
            raise InboundError(f"payload.{key}", "expected a string")
    labels.update({k: v for k, v in fixed.items() if v.strip()})
    return labels


def _pd_details(custom: Any) -> list[str]:
    """custom_details as "k: v" lines (text as it is; nested values as compact JSON)."""
    if isinstance(custom, str):
        return [custom]
    if not isinstance(custom, dict):
        return []
    lines = []
    for key, value in list(custom.items())[:MAX_LABELS]:
        text = _scalar(value, booleans=True)
        if text is None and value is not None:
            text = _compact_json(value)
        if text is not None:
            lines.append(f"{_one_line(str(key), limit=MAX_LABEL_TEXT)}: {_clean(text, limit=1000)}")
    return lines


# -- Generic webhook ---------------------------------------------------------------------


def _webhook(integration: Integration, payload: Any) -> list[InboundAlert]:
    if isinstance(payload, dict):
        return [_webhook_one(integration, payload, "")]
    if isinstance(payload, list):
        if len(payload) > MAX_ALERTS:
            raise InboundError("body", f"more than {MAX_ALERTS} alerts")
        return [
            _webhook_one(integration, _object(row, f"[{i}]"), f"[{i}].")
            for i, row in enumerate(payload)
        ]
    raise InboundError("body", "expected a JSON object or array")


def _webhook_one(integration: Integration, row: dict[str, Any], where: str) -> InboundAlert:
    fields = integration.fields
    title = _field(row, fields.title, where + "title", required=True)
    raw_key = _field(row, fields.dedup_key, where + "dedup_key", required=True)
    dedup_key = _dedup_key(raw_key, where + "dedup_key")
    if not dedup_key:
        raise InboundError(where + "dedup_key", f"no value at path {fields.dedup_key!r}")
    description = ""
    if fields.description:
        found = _lookup(row, fields.description)
        description = _scalar(found, booleans=True) or ""
        if not description and isinstance(found, dict | list) and found:
            description = _compact_json(found) or ""
    severity = _field(row, fields.severity, where + "severity") if fields.severity else ""
    resolved = _field(row, fields.resolved, where + "resolved") if fields.resolved else ""
    over = {v.strip().lower() for v in fields.resolved_values}
    labels = {
        str(k): text
        for k, v in list(row.items())[: MAX_LABELS * 4]
        if (text := _scalar(v, booleans=True)) is not None
    }
    service = _service(integration, labels)
    if fields.service:
        named = _field(row, fields.service, where + "service")
        service = _one_line(named, MAX_LABEL_TEXT).strip() or None
    severity, priority = _classify(integration, severity)
    return InboundAlert(
        dedup_key=dedup_key,
        action="resolve" if resolved and resolved.strip().lower() in over else "trigger",
        title=_one_line(title, MAX_TITLE).strip() or f"alert {dedup_key}",
        description=_clean(description, limit=MAX_DESCRIPTION),
        severity=severity,
        priority=priority,
        service=service,
        labels=_capped(labels),
        started=None,
        url=None,
    )


def _lookup(row: Any, path: str) -> Any:
    """The value at dotted `path` ("a.b.0.c": keys of objects, indexes of lists), or None."""
    value = row
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isascii() and part.isdigit() and len(part) < 10:
            index = int(part)
            value = value[index] if index < len(value) else None
        else:
            return None
    return value


def _field(row: dict[str, Any], path: str, where: str, *, required: bool = False) -> str:
    """The text at `path`: a string, a number, or true/false; "" (or, `required`, an
    InboundError) when there is none."""
    value = _lookup(row, path)
    text = _scalar(value, booleans=True)
    if text is None and value is not None:
        raise InboundError(where, f"expected text, a number or true/false at path {path!r}")
    if required and not (text or "").strip():
        raise InboundError(where, f"no value at path {path!r}")
    return text or ""


# -- Shared helpers ----------------------------------------------------------------------


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InboundError(where, "expected an object")
    return value


def _list(value: Any) -> list[Any]:
    return value[:MAX_LABELS] if isinstance(value, list) else []


def _strings(value: Any, where: str) -> dict[str, str]:
    """An object of strings (labels, annotations); missing or null is {}."""
    if value is None:
        return {}
    strings = {}
    for key, item in _object(value, where).items():
        if not isinstance(item, str):
            raise InboundError(f"{where}.{_one_line(str(key), limit=60)}", "expected a string")
        strings[str(key)] = item
    return strings


def _scalar(value: Any, *, booleans: bool) -> str | None:
    """A string or number as text (true/false too, with `booleans`); None for the rest."""
    if isinstance(value, bool):
        return ("true" if value else "false") if booleans else None
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # past Python's digit limit for int to str
            return None
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    return None


def _compact_json(value: Any) -> str | None:
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    except (ValueError, TypeError, RecursionError):
        return None


def _dedup_key(value: str, where: str) -> str:
    key = _one_line(value).strip()
    if len(key) > MAX_DEDUP_KEY:
        raise InboundError(where, f"longer than {MAX_DEDUP_KEY} characters")
    return key


def _classify(integration: Integration, given: str | None) -> tuple[str, str]:
    """severity and priority: the severity as given (lower case) or the default, and its
    priority from `severities`, else the default severity's, else P3."""
    severity = _one_line(given or "", MAX_SEVERITY).strip().lower()
    severity = severity or integration.default_severity
    priority = integration.severities.get(severity) or integration.severities.get(
        integration.default_severity, "P3"
    )
    return severity, priority


def _service(integration: Integration, labels: dict[str, str]) -> str | None:
    value = labels.get(integration.service_label)
    if not value:
        return None
    return _one_line(value, MAX_LABEL_TEXT).strip() or None


def _capped(labels: dict[str, str]) -> dict[str, str]:
    """At most MAX_LABELS labels (the first by key), keys and values one line of at most
    MAX_LABEL_TEXT characters; keys that clean to nothing are dropped."""
    out: dict[str, str] = {}
    for key in sorted(labels)[: MAX_LABELS * 2]:
        name = _one_line(str(key), MAX_LABEL_TEXT).strip()
        if name and len(out) < MAX_LABELS:
            out[name] = _one_line(str(labels[key]), MAX_LABEL_TEXT)
    return out


def _time(value: Any) -> datetime | None:
    """An ISO 8601 date-time with an offset, in UTC; None for anything else, for a naive
    time (its zone is unknown) and for Go's zero time ("0001-01-01T00:00:00Z")."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        if parsed.tzinfo is None or parsed.utcoffset() is None or parsed.year <= 1:
            return None
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _url(value: Any) -> str | None:
    """An http(s) URL as given; None for anything else or one with spaces or controls."""
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        return None
    if len(value) > MAX_URL or _one_line(value) != value or any(c.isspace() for c in value):
        return None
    return value
