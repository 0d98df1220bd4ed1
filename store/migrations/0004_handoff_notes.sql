-- Schema 4: handoff notes. The outgoing on-call person writes one for a schedule; it is
-- addressed to whoever is on call next and shown to them when they next open a console.
CREATE TABLE handoff_notes (
    id          INTEGER PRIMARY KEY,
    schedule    TEXT NOT NULL,
    author      TEXT NOT NULL,
    for_login   TEXT NOT NULL,
    text        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    seen_at     TEXT
);
CREATE INDEX handoff_notes_unseen ON handoff_notes (for_login) WHERE seen_at IS NULL;
CREATE INDEX handoff_notes_schedule ON handoff_notes (schedule, id);
