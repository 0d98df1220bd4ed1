-- opsdesk store, schema 1: metadata, the append-only audit log, incidents, changes,
-- on-call overrides and the team banner. Times are ISO-8601 UTC text ("...Z"), so
-- they sort as text and read well in the sqlite3 shell.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE audit (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    entity     TEXT NOT NULL,
    entity_key TEXT NOT NULL,
    before     TEXT,
    after      TEXT
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_entity_key ON audit (entity_key, id);

CREATE TRIGGER audit_refuses_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit rows are append-only');
END;
CREATE TRIGGER audit_refuses_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit rows are append-only');
END;

CREATE TABLE incidents (
    id               INTEGER PRIMARY KEY,
    title            TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    service          TEXT NOT NULL,
    impact           INTEGER NOT NULL CHECK (impact BETWEEN 1 AND 3),
    urgency          INTEGER NOT NULL CHECK (urgency BETWEEN 1 AND 3),
    priority         TEXT NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4')),
    state            TEXT NOT NULL,
    hold_reason      TEXT,
    assignee         TEXT,
    reporter         TEXT NOT NULL,
    source           TEXT NOT NULL DEFAULT 'manual',
    dedup_key        TEXT,
    created_at       TEXT NOT NULL,
    acknowledged_at  TEXT,
    resolved_at      TEXT,
    closed_at        TEXT,
    resolution_code  TEXT,
    resolution_note  TEXT,
    csat             INTEGER CHECK (csat BETWEEN 1 AND 5),
    version          INTEGER NOT NULL DEFAULT 1,
    updated_at       TEXT NOT NULL,
    updated_by       TEXT NOT NULL
);
CREATE INDEX incidents_state ON incidents (state, priority, created_at);
CREATE INDEX incidents_assignee ON incidents (assignee, state);
CREATE INDEX incidents_service ON incidents (service, state);
CREATE UNIQUE INDEX incidents_dedup ON incidents (source, dedup_key) WHERE dedup_key IS NOT NULL;

CREATE TABLE changes (
    id             INTEGER PRIMARY KEY,
    title          TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    type           TEXT NOT NULL CHECK (type IN ('standard', 'normal', 'emergency')),
    risk           TEXT NOT NULL CHECK (risk IN ('low', 'medium', 'high')),
    services       TEXT NOT NULL DEFAULT '[]',
    planned_start  TEXT NOT NULL,
    planned_end    TEXT NOT NULL,
    implementer    TEXT,
    requester      TEXT NOT NULL,
    test_plan      TEXT NOT NULL DEFAULT '',
    backout_plan   TEXT NOT NULL DEFAULT '',
    state          TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1,
    updated_at     TEXT NOT NULL,
    updated_by     TEXT NOT NULL,
    CHECK (planned_end > planned_start)
);
CREATE INDEX changes_state ON changes (state, planned_start);

CREATE TABLE overrides (
    id          INTEGER PRIMARY KEY,
    schedule    TEXT NOT NULL,
    login       TEXT NOT NULL,
    starts_at   TEXT NOT NULL,
    ends_at     TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX overrides_schedule ON overrides (schedule, ends_at);

CREATE TABLE banner (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    text     TEXT NOT NULL DEFAULT '',
    set_by   TEXT,
    set_at   TEXT,
    version  INTEGER NOT NULL DEFAULT 0
);
INSERT INTO banner (id) VALUES (1);
