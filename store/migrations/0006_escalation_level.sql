-- Schema 6: which level of its service's escalation policy an incident has reached
-- (1 = the first level, paged when it opened). Escalating moves it on by one, once,
-- with the usual version check, so two consoles never page the same level twice.
ALTER TABLE incidents ADD COLUMN escalation_level INTEGER NOT NULL DEFAULT 1;
CREATE INDEX incidents_unacknowledged ON incidents (created_at) WHERE state = 'new';
