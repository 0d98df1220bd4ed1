-- Schema 10: an alert that fires again after its incident was resolved or closed is seen.
-- Dedupe by (source, dedup_key) now holds among open incidents only: an alert has at most
-- one open incident, and any number of resolved or closed ones before it (it reopens a
-- resolved one within queue.reopen_days, or opens a new one). The open states are written
-- out as in incidents_open_urgency and the store's queries, so the planner matches them.
DROP INDEX incidents_dedup;
CREATE UNIQUE INDEX incidents_dedup_open ON incidents (source, dedup_key)
    WHERE dedup_key IS NOT NULL AND state IN ('new', 'acknowledged', 'in_progress', 'on_hold');

-- Every incident an alert opened, whatever its state: what the poller looks up to decide
-- between nothing (one is open), reopening the latest, and a new incident.
CREATE INDEX incidents_alert_history ON incidents (source, dedup_key, id)
    WHERE dedup_key IS NOT NULL;
