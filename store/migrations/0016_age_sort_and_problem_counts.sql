-- Schema 16: the age sort walks its own index again. Schema 13 widened
-- incidents_created_at to (created_at, acknowledged_at) for the metrics, so incidents
-- created in the same second were no longer in id order there and every window of the
-- age sort re-sorted them (a page in the middle of a million: ~380 ms). This index is
-- (created_at) with the rowid after it: exactly `created_at, id`.
CREATE INDEX incidents_by_age ON incidents (created_at);

-- The problem tables (schema 15) move change counters too, so the Problems screen and
-- the incident view reload when they change, and the queue does not.
INSERT INTO change_counts (name) VALUES
    ('problems'),
    ('problem_incidents'),
    ('problem_events'),
    ('reviews'),
    ('action_items');

CREATE TRIGGER problems_counted_insert AFTER INSERT ON problems
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'problems';
END;

CREATE TRIGGER problems_counted_update AFTER UPDATE ON problems
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'problems';
END;

CREATE TRIGGER problems_counted_delete AFTER DELETE ON problems
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'problems';
END;

CREATE TRIGGER problem_incidents_counted_insert AFTER INSERT ON problem_incidents
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'problem_incidents';
END;

CREATE TRIGGER problem_incidents_counted_update AFTER UPDATE ON problem_incidents
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'problem_incidents';
END;

CREATE TRIGGER problem_incidents_counted_delete AFTER DELETE ON problem_incidents
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'problem_incidents';
END;

CREATE TRIGGER problem_events_counted_insert AFTER INSERT ON problem_events
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'problem_events';
END;

CREATE TRIGGER problem_events_counted_update AFTER UPDATE ON problem_events
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'problem_events';
END;

CREATE TRIGGER problem_events_counted_delete AFTER DELETE ON problem_events
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'problem_events';
END;

CREATE TRIGGER reviews_counted_insert AFTER INSERT ON reviews
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'reviews';
END;

CREATE TRIGGER reviews_counted_update AFTER UPDATE ON reviews
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'reviews';
END;

CREATE TRIGGER reviews_counted_delete AFTER DELETE ON reviews
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'reviews';
END;

CREATE TRIGGER action_items_counted_insert AFTER INSERT ON action_items
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'action_items';
END;

CREATE TRIGGER action_items_counted_update AFTER UPDATE ON action_items
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'action_items';
END;

CREATE TRIGGER action_items_counted_delete AFTER DELETE ON action_items
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'action_items';
END;
