-- Schema 8: the change workflow. Risk answers and justification, the conflicts a
-- submitter acknowledged, the post-implementation review, approvals (enforced here:
-- nobody approves their own change), links to incidents, and a timeline.
ALTER TABLE changes ADD COLUMN risk_justification TEXT NOT NULL DEFAULT '';
ALTER TABLE changes ADD COLUMN risk_answers TEXT NOT NULL DEFAULT '{}';
ALTER TABLE changes ADD COLUMN conflicts_ack TEXT;
ALTER TABLE changes ADD COLUMN review TEXT NOT NULL DEFAULT '';

CREATE TABLE change_approvals (
    id INTEGER PRIMARY KEY,
    change_id INTEGER NOT NULL REFERENCES changes (id),
    actor TEXT NOT NULL,
    roles TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject', 'review')),
    comment TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL
);
CREATE INDEX change_approvals_change ON change_approvals (change_id, id);

CREATE TABLE change_links (
    change_id INTEGER NOT NULL REFERENCES changes (id),
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    linked_by TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (change_id, incident_id)
);
CREATE INDEX change_links_incident ON change_links (incident_id);

CREATE TABLE change_events (
    id INTEGER PRIMARY KEY,
    change_id INTEGER NOT NULL REFERENCES changes (id),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX change_events_change ON change_events (change_id, id);
