-- Schema 14: leases and change counters.
--
-- A lease names one job that exactly one process should do at a time (automatic
-- escalation when no `opsdesk serve` runs): whoever holds an unexpired lease does it,
-- renews it while it runs, and anyone may take it once it has run out.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- One counter per table the console shows, moved by a trigger on every row written, so
-- a console that sees the store change (PRAGMA data_version) can tell which tables moved
-- and reload only the screens that show them. A commit that moves none of these counted
-- tables (a table added later) is "something changed": everything reloads, as before.
CREATE TABLE change_counts (
    name TEXT PRIMARY KEY,
    n INTEGER NOT NULL DEFAULT 0
);
INSERT INTO change_counts (name) VALUES
    ('incidents'),
    ('incident_events'),
    ('changes'),
    ('change_approvals'),
    ('change_links'),
    ('change_events'),
    ('overrides'),
    ('banner'),
    ('handoff_notes'),
    ('source_status'),
    ('status_history'),
    ('notifications'),
    ('leases');

CREATE TRIGGER incidents_counted_insert AFTER INSERT ON incidents
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'incidents';
END;

CREATE TRIGGER incidents_counted_update AFTER UPDATE ON incidents
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'incidents';
END;

CREATE TRIGGER incidents_counted_delete AFTER DELETE ON incidents
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'incidents';
END;

CREATE TRIGGER incident_events_counted_insert AFTER INSERT ON incident_events
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'incident_events';
END;

CREATE TRIGGER incident_events_counted_update AFTER UPDATE ON incident_events
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'incident_events';
END;

CREATE TRIGGER incident_events_counted_delete AFTER DELETE ON incident_events
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'incident_events';
END;

CREATE TRIGGER changes_counted_insert AFTER INSERT ON changes
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'changes';
END;

CREATE TRIGGER changes_counted_update AFTER UPDATE ON changes
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'changes';
END;

CREATE TRIGGER changes_counted_delete AFTER DELETE ON changes
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'changes';
END;

CREATE TRIGGER change_approvals_counted_insert AFTER INSERT ON change_approvals
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'change_approvals';
END;

CREATE TRIGGER change_approvals_counted_update AFTER UPDATE ON change_approvals
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'change_approvals';
END;

CREATE TRIGGER change_approvals_counted_delete AFTER DELETE ON change_approvals
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'change_approvals';
END;

CREATE TRIGGER change_links_counted_insert AFTER INSERT ON change_links
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'change_links';
END;

CREATE TRIGGER change_links_counted_update AFTER UPDATE ON change_links
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'change_links';
END;

CREATE TRIGGER change_links_counted_delete AFTER DELETE ON change_links
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'change_links';
END;

CREATE TRIGGER change_events_counted_insert AFTER INSERT ON change_events
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'change_events';
END;

CREATE TRIGGER change_events_counted_update AFTER UPDATE ON change_events
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'change_events';
END;

CREATE TRIGGER change_events_counted_delete AFTER DELETE ON change_events
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'change_events';
END;

CREATE TRIGGER overrides_counted_insert AFTER INSERT ON overrides
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'overrides';
END;

CREATE TRIGGER overrides_counted_update AFTER UPDATE ON overrides
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'overrides';
END;

CREATE TRIGGER overrides_counted_delete AFTER DELETE ON overrides
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'overrides';
END;

CREATE TRIGGER banner_counted_insert AFTER INSERT ON banner
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'banner';
END;

CREATE TRIGGER banner_counted_update AFTER UPDATE ON banner
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'banner';
END;

CREATE TRIGGER banner_counted_delete AFTER DELETE ON banner
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'banner';
END;

CREATE TRIGGER handoff_notes_counted_insert AFTER INSERT ON handoff_notes
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'handoff_notes';
END;

CREATE TRIGGER handoff_notes_counted_update AFTER UPDATE ON handoff_notes
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'handoff_notes';
END;

CREATE TRIGGER handoff_notes_counted_delete AFTER DELETE ON handoff_notes
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'handoff_notes';
END;

CREATE TRIGGER source_status_counted_insert AFTER INSERT ON source_status
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'source_status';
END;

CREATE TRIGGER source_status_counted_update AFTER UPDATE ON source_status
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'source_status';
END;

CREATE TRIGGER source_status_counted_delete AFTER DELETE ON source_status
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'source_status';
END;

CREATE TRIGGER status_history_counted_insert AFTER INSERT ON status_history
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'status_history';
END;

CREATE TRIGGER status_history_counted_update AFTER UPDATE ON status_history
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'status_history';
END;

CREATE TRIGGER status_history_counted_delete AFTER DELETE ON status_history
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'status_history';
END;

CREATE TRIGGER notifications_counted_insert AFTER INSERT ON notifications
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'notifications';
END;

CREATE TRIGGER notifications_counted_update AFTER UPDATE ON notifications
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'notifications';
END;

CREATE TRIGGER notifications_counted_delete AFTER DELETE ON notifications
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'notifications';
END;

CREATE TRIGGER leases_counted_insert AFTER INSERT ON leases
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'leases';
END;

CREATE TRIGGER leases_counted_update AFTER UPDATE ON leases
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'leases';
END;

CREATE TRIGGER leases_counted_delete AFTER DELETE ON leases
BEGIN
    UPDATE change_counts SET n = n + 1 WHERE name = 'leases';
END;
