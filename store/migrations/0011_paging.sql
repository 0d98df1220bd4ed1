-- Schema 11: paging. An incident remembers when its current escalation level paged
-- (escalation_at; NULL: when it opened) and which pass through its policy this is
-- (escalation_round), so the next level is due a level's delay after the last one
-- actually paged: after downtime the levels catch up one at a time, not in a burst.
ALTER TABLE incidents ADD COLUMN escalation_at TEXT;
ALTER TABLE incidents ADD COLUMN escalation_round INTEGER NOT NULL DEFAULT 1;

-- The outbox: one row per message to one person by one method, written in the same
-- transaction as what caused it (an incident opening, a level escalating, a page by
-- hand). The delivery worker claims due rows (state 'sending' with a lease), sends,
-- and records 'delivered' or, after its attempts, 'failed' with the reason. A worker
-- killed mid-send leaves a lease that runs out, so the row is sent again: at most one
-- duplicate, never a loss. Acknowledging an incident cancels what is still pending.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    incident_id INTEGER REFERENCES incidents (id),
    login TEXT NOT NULL,
    method TEXT NOT NULL,
    address TEXT NOT NULL,
    urgency TEXT NOT NULL CHECK (urgency IN ('high', 'low')),
    reason TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    not_before TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'sending', 'delivered', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    claimed_by TEXT,
    claimed_until TEXT,
    error TEXT,
    receipt TEXT,
    sent_at TEXT,
    acknowledged_at TEXT,
    acknowledged_via TEXT
);
CREATE INDEX notifications_due ON notifications (not_before)
    WHERE state IN ('pending', 'sending');
CREATE INDEX notifications_incident ON notifications (incident_id, id);
