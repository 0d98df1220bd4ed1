"""The importers by command-line name. A new product: one module, one line here."""

from __future__ import annotations

from opsdesk.console.domain.imports.grafana_oncall import GrafanaOnCall
from opsdesk.console.domain.imports.model import Importer
from opsdesk.console.domain.imports.opsgenie import Opsgenie
from opsdesk.console.domain.imports.pagerduty import PagerDuty

IMPORTERS: dict[str, Importer] = {
    "grafana-oncall": GrafanaOnCall(),
    "opsgenie": Opsgenie(),
    "pagerduty": PagerDuty(),
}
"""H5 adds "pagerduty" and "opsgenie" here."""


def importer(product: str) -> Importer:
    return IMPORTERS[product]
