-- Schema 15: learning from incidents. Problems (PRB-n) with the incidents they explain
-- (an incident belongs to at most one problem), their timeline, post-incident reviews
-- (one per incident) and action items (ACT-n), the improvement register. Every row that
-- people change carries a version for optimistic checks, and who changed it last.
CREATE TABLE problems (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    services TEXT NOT NULL DEFAULT '[]',
    state TEXT NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'under_investigation',
        'root_cause_known', 'known_error', 'resolved', 'closed')),
    owner TEXT,
    root_cause TEXT NOT NULL DEFAULT '',
    workaround TEXT NOT NULL DEFAULT '',
    fix_change_id INTEGER REFERENCES changes (id),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    resolved_at TEXT,
    closed_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX problems_state ON problems (state, id);

CREATE TABLE problem_incidents (
    problem_id INTEGER NOT NULL REFERENCES problems (id),
    incident_id INTEGER NOT NULL UNIQUE REFERENCES incidents (id),
    linked_by TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (problem_id, incident_id)
);

CREATE TABLE problem_events (
    id INTEGER PRIMARY KEY,
    problem_id INTEGER NOT NULL REFERENCES problems (id),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX problem_events_problem ON problem_events (problem_id, id);

CREATE TABLE reviews (
    id INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL UNIQUE REFERENCES incidents (id),
    state TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'accepted')),
    summary TEXT NOT NULL DEFAULT '',
    customers TEXT NOT NULL DEFAULT '',
    duration_minutes INTEGER,
    sla_breached INTEGER,
    root_cause TEXT NOT NULL DEFAULT '',
    contributing_factors TEXT NOT NULL DEFAULT '',
    went_well TEXT NOT NULL DEFAULT '',
    lucky TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    accepted_by TEXT,
    accepted_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX reviews_state ON reviews (state);

CREATE TABLE action_items (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('prevent', 'mitigate', 'detect', 'process')),
    owner TEXT NOT NULL,
    due TEXT,
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done', 'cancelled')),
    incident_id INTEGER REFERENCES incidents (id),
    problem_id INTEGER REFERENCES problems (id),
    change_id INTEGER REFERENCES changes (id),
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    done_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    CHECK (incident_id IS NOT NULL OR problem_id IS NOT NULL)
);
CREATE INDEX action_items_open ON action_items (state, owner, due);
CREATE INDEX action_items_incident ON action_items (incident_id);
CREATE INDEX action_items_problem ON action_items (problem_id);
