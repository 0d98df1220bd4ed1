"""`GET /metrics`: the pager's own figures in Prometheus text format, so a team watches
its pager with its own Prometheus (alert on notifications failing, on nothing received)."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

disable_created_metrics()  # the *_created series only double what a scrape shows


class PagerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.alerts = Counter(
            "opsdesk_alerts_received",
            "Alerts received, by integration.",
            ["integration"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "opsdesk_requests_rejected",
            "Requests refused, by integration and HTTP status.",
            ["integration", "status"],
            registry=self.registry,
        )
        self.opened = Counter(
            "opsdesk_incidents_opened",
            "Incidents opened or reopened by alerts.",
            ["integration"],
            registry=self.registry,
        )
        self.sent = Counter(
            "opsdesk_notifications_sent",
            "Notifications delivered, by channel.",
            ["channel"],
            registry=self.registry,
        )
        self.failed = Counter(
            "opsdesk_notifications_failed",
            "Notification attempts that failed, by channel.",
            ["channel"],
            registry=self.registry,
        )
        self.escalations = Counter(
            "opsdesk_escalations", "Escalation levels paged by the timer.", registry=self.registry
        )
        self.latency = Histogram(
            "opsdesk_notification_delivery_seconds",
            "From a notification queued to its channel accepting it.",
            ["channel"],
            registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
        )

    def text(self) -> bytes:
        return generate_latest(self.registry)
