-- Schema 7: what the status poller learned. One row per configured source with its last
-- good report, its error state and the claim that lets many consoles poll it once per
-- interval in total; history keeps level changes only (for availability over 30/90 days).
CREATE TABLE source_status (
    source TEXT PRIMARY KEY,
    level TEXT NOT NULL DEFAULT 'unknown',
    summary TEXT NOT NULL DEFAULT '',
    report TEXT,
    error TEXT,
    checked_at TEXT,
    last_ok_at TEXT,
    level_since TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    validators TEXT,
    claimed_by TEXT,
    claimed_until TEXT,
    next_due TEXT
);

CREATE TABLE status_history (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    at TEXT NOT NULL,
    level TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT ''
);
CREATE INDEX status_history_source ON status_history (source, at);
