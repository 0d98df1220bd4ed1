"""Every line of SQL lives here. The rest of opsdesk sees `Store`, records and errors."""

from typing import TYPE_CHECKING, Any

from opsdesk.store import records
from opsdesk.store.db import LATEST_SCHEMA
from opsdesk.store.errors import (
    InvalidOperation,
    NotFound,
    PermissionDenied,
    ReadOnlyStore,
    SearchInterrupted,
    StaleWrite,
    StoreBusy,
    StoreError,
    StoreOpenError,
)
from opsdesk.store.records import (
    Actor,
    Incident,
    NewIncident,
)
from opsdesk.store.store import Store

if TYPE_CHECKING:
    from opsdesk.store.records import AuditEntry, Banner, NewChange, Override, StoreInfo


def __getattr__(name: str) -> Any:
    """The records that load on first use (store/records.py says why)."""
    if name in ("AuditEntry", "Banner", "NewChange", "Override", "StoreInfo"):
        return getattr(records, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "LATEST_SCHEMA",
    "Actor",
    "AuditEntry",
    "Banner",
    "Incident",
    "InvalidOperation",
    "NewChange",
    "NewIncident",
    "NotFound",
    "Override",
    "PermissionDenied",
    "ReadOnlyStore",
    "SearchInterrupted",
    "StaleWrite",
    "Store",
    "StoreBusy",
    "StoreError",
    "StoreInfo",
    "StoreOpenError",
]
