-- Schema 18: the duration histograms of metrics_durations (schema 13) summed per dekad as
-- well as per day, so a month of the metrics strip reads ~4 dekad histograms instead of
-- ~30 day histograms (a third of the rows at a million incidents; store/stats.py).
--
-- A dekad is the days whose date shares its first nine characters: '2026-11-2' holds the
-- 20th to the 29th ('…-0': 1st-9th, '…-1': 10th-19th, '…-3': 30th-31st). Keyed by text
-- rather than by calendar week, a dekad holds exactly the day rows whose day lies in the
-- text range [dekad, dekad + 1 in its last character), so a window read as dekads plus
-- day ranges adds up exactly what its day rows add up, whatever a stored time looks like.

CREATE TABLE metrics_dekads (
    kind    TEXT NOT NULL CHECK (kind IN ('ack', 'resolve')),
    dekad   TEXT NOT NULL,
    minute  INTEGER NOT NULL,
    n       INTEGER NOT NULL,
    total   REAL NOT NULL,
    PRIMARY KEY (kind, dekad, minute)
) WITHOUT ROWID;

-- Backfill (store/stats.py REBUILD is the same SQL, for bulk loads).
INSERT INTO metrics_dekads (kind, dekad, minute, n, total)
SELECT kind, substr(day, 1, 9), minute, sum(n), sum(total) FROM metrics_durations
GROUP BY kind, substr(day, 1, 9), minute;

-- Kept in step as schema 13's triggers keep metrics_durations, statement for statement,
-- with the dekad (the first nine characters) where they have the day (ten).
CREATE TRIGGER metrics_dekads_insert AFTER INSERT ON incidents BEGIN
    INSERT INTO metrics_dekads (kind, dekad, minute, n, total)
    SELECT 'ack', substr(new.created_at, 1, 9), CAST(d / 60 AS INTEGER), 1, d FROM (
        SELECT (julianday(new.acknowledged_at) - julianday(new.created_at)) * 86400 AS d
    ) WHERE d IS NOT NULL
    ON CONFLICT (kind, dekad, minute) DO UPDATE SET n = n + 1, total = total + excluded.total;
    INSERT INTO metrics_dekads (kind, dekad, minute, n, total)
    SELECT 'resolve', substr(new.resolved_at, 1, 9), CAST(d / 60 AS INTEGER), 1, d FROM (
        SELECT (julianday(new.resolved_at) - julianday(new.created_at)) * 86400 AS d
    ) WHERE d IS NOT NULL
    ON CONFLICT (kind, dekad, minute) DO UPDATE SET n = n + 1, total = total + excluded.total;
END;

CREATE TRIGGER metrics_dekads_delete AFTER DELETE ON incidents BEGIN
    UPDATE metrics_dekads
    SET n = n - 1,
        total = total - (julianday(old.acknowledged_at) - julianday(old.created_at)) * 86400
    WHERE kind = 'ack' AND dekad = substr(old.created_at, 1, 9)
      AND minute = CAST((julianday(old.acknowledged_at) - julianday(old.created_at)) * 86400
                        / 60 AS INTEGER);
    UPDATE metrics_dekads
    SET n = n - 1,
        total = total - (julianday(old.resolved_at) - julianday(old.created_at)) * 86400
    WHERE kind = 'resolve' AND dekad = substr(old.resolved_at, 1, 9)
      AND minute = CAST((julianday(old.resolved_at) - julianday(old.created_at)) * 86400
                        / 60 AS INTEGER);
    DELETE FROM metrics_dekads WHERE n <= 0 AND (
        (kind = 'ack' AND dekad = substr(old.created_at, 1, 9))
        OR (kind = 'resolve' AND dekad = substr(old.resolved_at, 1, 9)));
END;

CREATE TRIGGER metrics_dekads_ack_update AFTER UPDATE OF created_at, acknowledged_at ON incidents
WHEN old.created_at IS NOT new.created_at OR old.acknowledged_at IS NOT new.acknowledged_at
BEGIN
    UPDATE metrics_dekads
    SET n = n - 1,
        total = total - (julianday(old.acknowledged_at) - julianday(old.created_at)) * 86400
    WHERE kind = 'ack' AND dekad = substr(old.created_at, 1, 9)
      AND minute = CAST((julianday(old.acknowledged_at) - julianday(old.created_at)) * 86400
                        / 60 AS INTEGER);
    DELETE FROM metrics_dekads
    WHERE n <= 0 AND kind = 'ack' AND dekad = substr(old.created_at, 1, 9);
    INSERT INTO metrics_dekads (kind, dekad, minute, n, total)
    SELECT 'ack', substr(new.created_at, 1, 9), CAST(d / 60 AS INTEGER), 1, d FROM (
        SELECT (julianday(new.acknowledged_at) - julianday(new.created_at)) * 86400 AS d
    ) WHERE d IS NOT NULL
    ON CONFLICT (kind, dekad, minute) DO UPDATE SET n = n + 1, total = total + excluded.total;
END;

CREATE TRIGGER metrics_dekads_resolve_update AFTER UPDATE OF created_at, resolved_at ON incidents
WHEN old.created_at IS NOT new.created_at OR old.resolved_at IS NOT new.resolved_at
BEGIN
    UPDATE metrics_dekads
    SET n = n - 1,
        total = total - (julianday(old.resolved_at) - julianday(old.created_at)) * 86400
    WHERE kind = 'resolve' AND dekad = substr(old.resolved_at, 1, 9)
      AND minute = CAST((julianday(old.resolved_at) - julianday(old.created_at)) * 86400
                        / 60 AS INTEGER);
    DELETE FROM metrics_dekads
    WHERE n <= 0 AND kind = 'resolve' AND dekad = substr(old.resolved_at, 1, 9);
    INSERT INTO metrics_dekads (kind, dekad, minute, n, total)
    SELECT 'resolve', substr(new.resolved_at, 1, 9), CAST(d / 60 AS INTEGER), 1, d FROM (
        SELECT (julianday(new.resolved_at) - julianday(new.created_at)) * 86400 AS d
    ) WHERE d IS NOT NULL
    ON CONFLICT (kind, dekad, minute) DO UPDATE SET n = n + 1, total = total + excluded.total;
END;
