-- Schema 12: every sort the queue offers over all incidents walks an index, so any page of
-- a million-row list (the first, the last, one in the middle after a scrollbar drag) is a
-- short index walk instead of a sort of every row. Each index holds its order's terms
-- exactly as store/incidents.py SORT_TERMS writes them, ending in the tie-breaker (newest
-- first), so SQLite reads it forwards for ascending and backwards for descending, and
-- steps over an OFFSET in the index alone (tens of nanoseconds a row). Urgency, age and
-- key already have theirs (incidents_urgency, incidents_created_at, the rowid).
CREATE INDEX incidents_by_title ON incidents (title COLLATE NOCASE, id DESC);
CREATE INDEX incidents_by_assignee ON incidents (assignee IS NULL, assignee, id DESC);
CREATE INDEX incidents_by_state ON incidents (
    CASE state WHEN 'new' THEN 0 WHEN 'acknowledged' THEN 1 WHEN 'in_progress' THEN 2
        WHEN 'on_hold' THEN 3 WHEN 'resolved' THEN 4 ELSE 5 END,
    id DESC
);
CREATE INDEX incidents_by_service ON incidents (service, id DESC);
CREATE INDEX incidents_by_priority ON incidents (priority, id DESC);
