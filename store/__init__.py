"""Every line of SQL lives here. The rest of opsdesk sees `Store`, records and errors."""

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
    AuditEntry,
    Banner,
    Incident,
    NewChange,
    NewIncident,
    Override,
    StoreInfo,
)
from opsdesk.store.store import Store

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
