"""The hand-written PagerDuty and Opsgenie import cases under
tests/fixtures/imports/<product>/, as the real APIs answer them: paged as each API
pages, saved as bundles, or served by tests/import_server.py.

A case file holds the objects a product's API returns (users, schedules with their own
final rota written out by hand, overrides, escalation policies, ...), a `now` and a
number of `weeks`; these helpers turn them into the pages each endpoint returns.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from opsdesk.console.domain.imports.common import MemoryBundle
from opsdesk.console.domain.imports.model import Window

CASES = Path(__file__).parent / "fixtures" / "imports"
# Copies of the vendors' samples (provenance: samples/SOURCES.md), so CI needs nothing else.
MIGRATION = CASES / "samples"


def case_names(product: str) -> list[str]:
    return sorted(p.stem for p in (CASES / product).glob("*.json"))


def load_case(product: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CASES / product / f"{name}.json").read_text())
    return data


def case_window(case: dict[str, Any]) -> Window:
    start = datetime.fromisoformat(case["now"].replace("Z", "+00:00"))
    return Window(start, start + timedelta(weeks=case["weeks"]))


def vendor_payload(name: str) -> Any:
    """A vendor sample (tests/fixtures/imports/samples/), without its wrapper."""
    return json.loads((MIGRATION / name).read_text())["payload"]


def bundle(api: dict[str, list[Any]]) -> MemoryBundle:
    return MemoryBundle(dict(api))


# PagerDuty ----------------------------------------------------------------------------


def _offset_pages(key: str, found: list[Any], per_page: int) -> list[Any]:
    """A PagerDuty list as its pages: offset, limit, more (total only when asked)."""
    pages = []
    for offset in range(0, max(len(found), 1), per_page):
        chunk = found[offset : offset + per_page]
        more = offset + per_page < len(found)
        pages.append({key: chunk, "offset": offset, "limit": per_page, "more": more, "total": None})
    return pages


def pagerduty_lists(case: dict[str, Any]) -> dict[str, list[Any]]:
    """The items of each PagerDuty list endpoint (the schedules list holds summaries)."""
    listed = [
        {k: s[k] for k in ("id", "type", "name", "summary", "time_zone", "description")}
        for s in case["schedules"]
    ]
    return {
        "users": case["users"],
        "schedules": listed,
        "escalation_policies": case["escalation_policies"],
        "services": case["services"],
    }


def pagerduty_api(case: dict[str, Any], per_page: int = 100) -> dict[str, list[Any]]:
    """Endpoint key -> the pages PagerDuty returns for it (list endpoints `per_page` items
    a page; `schedule/<id>` one object; `overrides/<id>` one unpaged list)."""
    api = {key: _offset_pages(key, found, per_page) for key, found in pagerduty_lists(case).items()}
    for schedule in case["schedules"]:
        api[f"schedule/{schedule['id']}"] = [{"schedule": schedule}]
        api[f"overrides/{schedule['id']}"] = [
            {"overrides": case["overrides"].get(schedule["id"], [])}
        ]
    return api


def serve_pagerduty(server: Any, case: dict[str, Any], page_size: int = 2) -> None:
    """Put a case on tests/import_server.py's `ApiServer`: lists paged by offset."""
    for key, found in pagerduty_lists(case).items():
        server.collection(f"/{key}", found, style="offset", items_key=key, page_size=page_size)
    for schedule in case["schedules"]:
        sid = schedule["id"]
        server.document(f"/schedules/{sid}", {"schedule": schedule})
        server.document(
            f"/schedules/{sid}/overrides", {"overrides": case["overrides"].get(sid, [])}
        )


# Opsgenie -----------------------------------------------------------------------------


def _data(found: Any) -> dict[str, Any]:
    """An Opsgenie answer: `data` plus the bookkeeping every answer carries."""
    return {"data": found, "took": 0.01, "requestId": "00000000-0000-0000-0000-000000000000"}


def opsgenie_api(case: dict[str, Any], per_page: int = 100) -> dict[str, list[Any]]:
    """Endpoint key -> the pages Opsgenie returns: users paged with `paging.next`, the
    rest one answer each."""
    users = case["users"]
    user_pages = []
    for offset in range(0, max(len(users), 1), per_page):
        page = _data(users[offset : offset + per_page])
        page["totalCount"] = len(users)
        page["paging"] = {"first": f"https://api.opsgenie.com/v2/users?limit={per_page}&offset=0"}
        if offset + per_page < len(users):
            following = (
                f"https://api.opsgenie.com/v2/users?limit={per_page}&offset={offset + per_page}"
            )
            page["paging"]["next"] = following
        user_pages.append(page)
    api: dict[str, list[Any]] = {"users": user_pages}
    for key, body in _opsgenie_documents(case).items():
        api[key] = [body]
    return api


def _opsgenie_documents(case: dict[str, Any]) -> dict[str, Any]:
    """Every Opsgenie answer that comes whole, by endpoint key."""
    found: dict[str, Any] = {
        "schedules": {**_data(case["schedules"]), "expandable": ["rotation"]},
        "escalations": _data(case["escalations"]),
        "teams": _data(case["teams"]),
        "integrations": _data(case["integrations"]),
    }
    for schedule in case["schedules"]:
        sid = schedule["id"]
        found[f"overrides/{sid}"] = _data(case["overrides"].get(sid, []))
        if sid in case.get("timelines", {}):
            found[f"timeline/{sid}"] = {
                **_data(case["timelines"][sid]),
                "expandable": ["base", "forwarding", "override"],
            }
    for team_id, rules in case["routing_rules"].items():
        found[f"routing_rules/{team_id}"] = _data(rules)
    return found


OPSGENIE_PATHS = {
    "schedules": "/v2/schedules",
    "escalations": "/v2/escalations",
    "teams": "/v2/teams",
    "integrations": "/v2/integrations",
    "overrides": "/v2/schedules/{id}/overrides",
    "timeline": "/v2/schedules/{id}/timeline",
    "routing_rules": "/v2/teams/{id}/routing-rules",
}


def serve_opsgenie(server: Any, case: dict[str, Any], page_size: int = 2) -> None:
    """Put a case on tests/import_server.py's `ApiServer`: users paged by `paging.next`."""
    server.collection(
        "/v2/users",
        case["users"],
        style="next_url",
        items_key="data",
        next_key="paging.next",
        page_size=page_size,
        envelope={"took": 0.01, "requestId": "r", "totalCount": len(case["users"])},
    )
    for key, body in _opsgenie_documents(case).items():
        endpoint, _, item_id = key.partition("/")
        server.document(OPSGENIE_PATHS[endpoint].replace("{id}", item_id), body)
