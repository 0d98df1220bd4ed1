-- Schema 5: what the queue needs at a million incidents.
-- The urgency order (earliest SLA due first, incidents without a running clock last,
-- newest first) as an index, so the first page of "all incidents" is a short index walk.
CREATE INDEX incidents_urgency ON incidents (
    coalesce(min(response_due, resolve_due), response_due, resolve_due) IS NULL,
    coalesce(min(response_due, resolve_due), response_due, resolve_due),
    id DESC
);

-- The same order over open incidents only: the queue's default view (a few thousand rows
-- out of a million) walks this small index instead of sorting its rows on every page.
-- The store writes this state list literally in its queries so the planner can use it.
CREATE INDEX incidents_open_urgency ON incidents (
    coalesce(min(response_due, resolve_due), response_due, resolve_due) IS NULL,
    coalesce(min(response_due, resolve_due), response_due, resolve_due),
    id DESC
) WHERE state IN ('new', 'acknowledged', 'in_progress', 'on_hold');

-- Full-text search over the text people filter by, kept in step by triggers. The table
-- holds only the index (external content); the text stays in `incidents`.
CREATE VIRTUAL TABLE incidents_fts USING fts5(
    title, description, service, assignee,
    content = 'incidents', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO incidents_fts (incidents_fts) VALUES ('rebuild');

CREATE TRIGGER incidents_fts_insert AFTER INSERT ON incidents BEGIN
    INSERT INTO incidents_fts (rowid, title, description, service, assignee)
    VALUES (new.id, new.title, new.description, new.service, new.assignee);
END;

CREATE TRIGGER incidents_fts_delete AFTER DELETE ON incidents BEGIN
    INSERT INTO incidents_fts (incidents_fts, rowid, title, description, service, assignee)
    VALUES ('delete', old.id, old.title, old.description, old.service, old.assignee);
END;

CREATE TRIGGER incidents_fts_update
AFTER UPDATE OF title, description, service, assignee ON incidents BEGIN
    INSERT INTO incidents_fts (incidents_fts, rowid, title, description, service, assignee)
    VALUES ('delete', old.id, old.title, old.description, old.service, old.assignee);
    INSERT INTO incidents_fts (rowid, title, description, service, assignee)
    VALUES (new.id, new.title, new.description, new.service, new.assignee);
END;
