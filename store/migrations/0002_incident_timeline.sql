-- Schema 2: the incident timeline (state changes, assignments, notes, priority changes)
-- and the projected SLA due times, stored so that a million-row queue can be sorted and
-- filtered by urgency in SQL. Due times are recomputed at every transition.

CREATE TABLE incident_events (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents (id),
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    state        TEXT,
    detail       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, id);

ALTER TABLE incidents ADD COLUMN response_due TEXT;
ALTER TABLE incidents ADD COLUMN resolve_due TEXT;
CREATE INDEX incidents_response_due ON incidents (response_due) WHERE response_due IS NOT NULL;
CREATE INDEX incidents_resolve_due ON incidents (resolve_due) WHERE resolve_due IS NOT NULL;
