-- Schema 3: whether each SLA clock was met, recorded when it stops (NULL while it runs),
-- so SLA attainment over a window is one aggregate query even at a million incidents.
ALTER TABLE incidents ADD COLUMN response_met INTEGER;
ALTER TABLE incidents ADD COLUMN resolve_met INTEGER;
CREATE INDEX incidents_resolved_at ON incidents (resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX incidents_created_at ON incidents (created_at);
