"""The configuration of demo stores: a made-up team with real public status pages.

The demo store holds a recorded status of each page (console/ops/demo.py), never due for a
poll, so the vendors screen shows a store in use without going to the internet; `r` there
polls a vendor's real page on request, and then every hour (`interval`).

Built from this code whenever a demo store is opened without a named config (never read
from the store), so `opsdesk --store demo.db` needs no config file. The store file's
owner, who made the demo, is added as an admin, lead and CAB member so every action can
be tried; anyone else who opens it is an engineer (the session drops a made-up lead whose
login is a real account on the host).
"""

from __future__ import annotations

from typing import Any

PEOPLE = [
    ("ana", "Ana Ortiz", "America/New_York"),
    ("ben", "Ben Okafor", "America/New_York"),
    ("cruz", "Cruz Delgado", "America/Chicago"),
    ("dana", "Dana Weiss", "Europe/Berlin"),
    ("emil", "Emil Lindqvist", "Europe/Stockholm"),
    ("farah", "Farah Haddad", "Europe/London"),
    ("goro", "Goro Tanaka", "Asia/Tokyo"),
    ("hana", "Hana Novak", "Europe/Prague"),
    ("ivan", "Ivan Petrov", "Europe/Sofia"),
    ("jia", "Jia Chen", "Australia/Sydney"),
    ("kofi", "Kofi Mensah", "Africa/Accra"),
    ("lena", "Lena Fischer", "Europe/Berlin"),
]

SERVICES = [
    ("payments", 1, "Card and wallet payments", ["Stripe", "AWS"]),
    ("checkout", 1, "Web and mobile checkout", ["Stripe", "Cloudflare"]),
    ("auth", 1, "Single sign-on and sessions", ["Okta"]),
    ("search", 2, "Product search", ["AWS"]),
    ("email", 2, "Transactional email", ["Twilio SendGrid"]),
    ("git", 2, "Source hosting and CI", ["GitHub"]),
    ("chat", 3, "Team chat", ["Slack"]),
    ("wiki", 3, "Internal documentation", ["Atlassian"]),
]

SOURCES: list[dict[str, Any]] = [
    {
        "name": "github",
        "vendor": "GitHub",
        "plugin": "statuspage",
        "url": "https://www.githubstatus.com",
        "interval": "1h",
    },
    {
        "name": "cloudflare",
        "vendor": "Cloudflare",
        "plugin": "statuspage",
        "url": "https://www.cloudflarestatus.com",
        "interval": "1h",
    },
    {
        "name": "atlassian",
        "vendor": "Atlassian",
        "plugin": "statuspage",
        "url": "https://status.atlassian.com",
        "interval": "1h",
    },
    {
        "name": "sendgrid",
        "vendor": "Twilio SendGrid",
        "plugin": "statuspage",
        "url": "https://status.sendgrid.com",
        "interval": "1h",
    },
    {
        "name": "stripe",
        "vendor": "Stripe",
        "plugin": "http",
        "url": "https://status.stripe.com/",
        "interval": "1h",
    },
    {
        "name": "okta",
        "vendor": "Okta",
        "plugin": "http",
        "url": "https://status.okta.com/",
        "interval": "1h",
    },
    {
        "name": "slack",
        "vendor": "Slack",
        "plugin": "slack",
        "url": "https://slack-status.com",
        "interval": "1h",
    },
    {
        "name": "aws",
        "vendor": "AWS",
        "plugin": "rss",
        "url": "https://status.aws.amazon.com/rss/all.rss",
        "interval": "1h",
    },
]
PORTALS = {source["vendor"]: source["url"].split("/rss")[0] for source in SOURCES}

CONTRACTS = {
    "GitHub": (21000.0, "2027-03-31", "99.9% monthly uptime"),
    "Cloudflare": (36000.0, "2027-01-15", "100% uptime, service credits"),
    "Atlassian": (18500.0, "2026-12-31", "99.9% for Premium"),
    "Twilio SendGrid": (9600.0, "2027-06-30", "99.95% API availability"),
    "Stripe": (0.0, "2027-12-31", "Usage-based pricing"),
    "Okta": (42000.0, "2027-02-28", "99.99% availability"),
    "Slack": (15000.0, "2027-04-30", "99.99% uptime"),
    "AWS": (240000.0, "2027-09-30", "Per-service SLAs"),
}


# What the monthly review judges the vendors against (contracted availability in percent,
# a yearly budget) and how some are billed: Slack monthly, so the review annualises it;
# AWS over its budget, Cloudflare below its contracted availability after its outage.
CONTRACT_TERMS: dict[str, dict[str, Any]] = {
    "GitHub": {"availability": 99.9},
    "Cloudflare": {"availability": 100.0, "budget": 40000.0},
    "Atlassian": {"availability": 99.9, "notice": "30d"},
    "Twilio SendGrid": {"availability": 99.95},
    "Okta": {"availability": 99.99, "budget": 45000.0},
    "Slack": {"availability": 99.99, "cost": 1250.0, "period": "monthly"},
    "AWS": {"availability": 99.95, "budget": 220000.0},
}
# What an hour of downtime costs the business, per service (the review's outage cost).
COST_PER_HOUR = {"payments": 12000.0, "checkout": 9000.0, "auth": 4000.0}


def demo_sources() -> list[dict[str, Any]]:
    """The demo's status sources (copies), in config order."""
    return [dict(source) for source in SOURCES]


def demo_config(creator: str) -> dict[str, Any]:
    """The demo team's config; `creator` becomes admin, lead and CAB member."""
    people = [
        {
            "login": login,
            "name": name,
            "email": f"{login}@example.com",
            "phone": f"+1-555-01{index:02d}",
            "timezone": zone,
        }
        for index, (login, name, zone) in enumerate(PEOPLE)
    ]
    if creator not in {p[0] for p in PEOPLE}:
        people.append({"login": creator, "name": f"{creator} (you)", "timezone": "UTC"})
    vendors = [
        {
            "name": name,
            "contract": {
                "cost": cost,
                "currency": "USD",
                "renewal": renewal,
                "sla": sla,
                **CONTRACT_TERMS.get(name, {}),
            },
            "support": {
                "email": f"support@{name.split()[0].lower()}.example",
                "portal": PORTALS[name],
            },
        }
        for name, (cost, renewal, sla) in CONTRACTS.items()
    ]
    return {
        "ui": {"theme": "textual-dark"},
        "people": people,
        "roles": {
            "admin": [creator],
            "lead": ["ana", "dana", creator],
            "cab": ["ana", "dana", "hana", creator],
        },
        "sla": {
            "priorities": {
                "P1": {"respond": "15m", "resolve": "4h"},
                "P2": {"respond": "30m", "resolve": "8h"},
                "P3": {"respond": "4h", "resolve": "24h", "calendar": "business"},
                "P4": {"respond": "8h", "resolve": "40h", "calendar": "business"},
            },
            "calendars": {
                "business": {
                    "timezone": "America/New_York",
                    "days": ["mon", "tue", "wed", "thu", "fri"],
                    "from": "09:00",
                    "to": "17:00",
                    "holidays": ["2026-12-25", "2027-01-01"],
                }
            },
        },
        "services": [
            {"name": name, "tier": tier, "description": text, "vendors": vendors_}
            | ({"cost_per_hour": COST_PER_HOUR[name]} if name in COST_PER_HOUR else {})
            for name, tier, text, vendors_ in SERVICES
        ],
        "vendors": vendors,
        "sources": demo_sources(),
        "schedules": [
            {
                "name": "platform",
                "timezone": "America/New_York",
                "layers": [
                    {
                        "name": "primary",
                        "members": ["ana", "ben", "cruz"],
                        "rotation": "1w",
                        "start": "2026-01-05T09:00",
                    }
                ],
            },
            {
                "name": "payments",
                "timezone": "Europe/Berlin",
                "layers": [
                    {
                        "name": "europe",
                        "members": ["dana", "emil", "hana", "lena"],
                        "rotation": "1d",
                        "start": "2026-01-05T08:00",
                        "restrict": {"from": "08:00", "to": "20:00"},
                    },
                    {
                        "name": "apac",
                        "members": ["goro", "jia"],
                        "rotation": "1w",
                        "start": "2026-01-05T20:00",
                        "restrict": {"from": "20:00", "to": "08:00"},
                    },
                ],
            },
        ],
        "escalation_policies": [
            {
                "service": "payments",
                "levels": [
                    {"schedule": "payments", "after": "0m"},
                    {"schedule": "platform", "after": "15m"},
                    {"person": "dana", "after": "30m"},
                ],
            },
            {
                "service": "checkout",
                "levels": [
                    {"schedule": "platform", "after": "0m"},
                    {"person": "ana", "after": "20m"},
                ],
            },
        ],
        "freeze_windows": [
            {
                "name": "Year-end freeze",
                "start": "2026-12-18T00:00:00Z",
                "end": "2027-01-04T00:00:00Z",
                "services": ["payments", "checkout"],
            }
        ],
        "changes": {
            "approval_rules": [
                {"type": "standard", "cab": 0},
                {"type": "normal", "risk": ["low", "medium"], "cab": 1},
                {"type": "normal", "risk": ["high"], "cab": 2, "lead": 1},
                {"type": "emergency", "lead": 1, "review_after": True},
            ],
            "risk_questions": [
                {
                    "id": "customer_facing",
                    "text": "Does it touch a customer-facing service?",
                    "weight": 2,
                },
                {"id": "no_backout", "text": "Is the backout longer than 15 minutes?", "weight": 3},
                {"id": "untested", "text": "Is it untested in staging?", "weight": 3},
                {"id": "data", "text": "Does it migrate or delete data?", "weight": 2},
            ],
            "risk_thresholds": {"medium": 3, "high": 6},
        },
    }
