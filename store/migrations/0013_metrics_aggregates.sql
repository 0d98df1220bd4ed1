-- Schema 13: the queue's metrics (MTTA, MTTR, SLA attainment, CSAT over 7 and 30 days)
-- from aggregates kept in step by triggers, instead of a month of incidents read on every
-- refresh. store/stats.py reads them: whole days from here, the window's first and last
-- day from the incidents, so the figures are exactly those of a scan.

-- Per day and kind, a one-minute histogram of durations in seconds, as the metrics use:
-- 'ack' keyed by the day an incident was created (seconds from created to acknowledged),
-- 'resolve' by the day it was resolved (seconds from created to resolved).
CREATE TABLE metrics_durations (
    kind    TEXT NOT NULL CHECK (kind IN ('ack', 'resolve')),
    day     TEXT NOT NULL,
    minute  INTEGER NOT NULL,
    n       INTEGER NOT NULL,
    total   REAL NOT NULL,
    PRIMARY KEY (kind, day, minute)
) WITHOUT ROWID;

-- Per day resolved: incidents resolved with their SLA outcome recorded, how many met
-- every clock, and their CSAT (sum and count of answers).
CREATE TABLE metrics_outcomes (
    day         TEXT PRIMARY KEY,
    resolved    INTEGER NOT NULL,
    met         INTEGER NOT NULL,
    csat_sum    INTEGER NOT NULL,
    csat_count  INTEGER NOT NULL
) WITHOUT ROWID;

-- Backfill (store/stats.py REBUILD is the same SQL, for bulk loads).
INSERT INTO metrics_durations (kind, day, minute, n, total)
SELECT 'ack', day, CAST(d / 60 AS INTEGER) AS minute, count(*), sum(d) FROM (
    SELECT substr(created_at, 1, 10) AS day,
           (julianday(acknowledged_at) - julianday(created_at)) * 86400 AS d
    FROM incidents WHERE acknowledged_at IS NOT NULL
) WHERE d IS NOT NULL GROUP BY day, minute;

INSERT INTO metrics_durations (kind, day, minute, n, total)
SELECT 'resolve', day, CAST(d / 60 AS INTEGER) AS minute, count(*), sum(d) FROM (
    SELECT substr(resolved_at, 1, 10) AS day,
           (julianday(resolved_at) - julianday(created_at)) * 86400 AS d
    FROM incidents WHERE resolved_at IS NOT NULL
) WHERE d IS NOT NULL GROUP BY day, minute;

INSERT INTO metrics_outcomes (day, resolved, met, csat_sum, csat_count)
SELECT substr(resolved_at, 1, 10) AS day, count(*),
       coalesce(sum(resolve_met = 1 AND coalesce(response_met, 1) = 1), 0),
       coalesce(sum(csat), 0), count(csat)
FROM incidents WHERE resolved_at IS NOT NULL AND resolve_met IS NOT NULL GROUP BY day;

-- The window's first and last day are read from the incidents: the indexes they are read
-- through now carry every column those reads need (same names, same leading column, so
-- every query that used them still does), and no row is looked up.
DROP INDEX incidents_created_at;
CREATE INDEX incidents_created_at ON incidents (created_at, acknowledged_at);
DROP INDEX incidents_resolved_at;
CREATE INDEX incidents_resolved_at ON incidents (resolved_at, created_at, resolve_met, response_met, csat)
    WHERE resolved_at IS NOT NULL;

-- Keeping them in step. Each incident counts once in each aggregate it belongs to: an
-- insert adds it, a delete takes it out, an update of what it counts by takes the old
-- row out and puts the new one in (a reopen takes its resolution out). A duration whose
-- times do not parse is left out rather than refusing the write.
CREATE TRIGGER metrics_insert AFTER INSERT ON incidents BEGIN
    INSERT INTO metrics_durations (kind, day, minute, n, total)
    SELECT 'ack', substr(new.created_at, 1, 10), CAST(d / 60 AS INTEGER), 1, d FROM (
        SELECT (julianday(new.acknowledged_at) - julianday(new.created_at)) * 86400 AS d
    ) WHERE d IS NOT NULL
    ON CONFLICT (kind, day, minute) DO UPDATE SET n = n + 1, total = total + excluded.total;
    INSERT INTO metrics_durations (kind, day, minute, n, total)
    SELECT 'resolve', substr(new.resolved_at, 1, 10), CAST(d / 60 AS INTEGER), 1, d FROM (
        SELECT (julianday(new.resolved_at) - julianday(new.created_at)) * 86400 AS d
    ) WHERE d IS NOT NULL
    ON CONFLICT (kind, day, minute) DO UPDATE SET n = n + 1, total = total + excluded.total;
    INSERT INTO metrics_outcomes (day, resolved, met, csat_sum, csat_count)
    SELECT substr(new.resolved_at, 1, 10), 1,
           new.resolve_met = 1 AND coalesce(new.response_met, 1) = 1,
           coalesce(new.csat, 0), new.csat IS NOT NULL
    WHERE new.resolved_at IS NOT NULL AND new.resolve_met IS NOT NULL
    ON CONFLICT (day) DO UPDATE SET resolved = resolved + 1, met = met + excluded.met,
        csat_sum = csat_sum + excluded.csat_sum, csat_count = csat_count + excluded.csat_count;
END;

CREATE TRIGGER metrics_delete AFTER DELETE ON incidents BEGIN
    UPDATE metrics_durations
    SET n = n - 1,
        total = total - (julianday(old.acknowledged_at) - julianday(old.created_at)) * 86400
    WHERE kind = 'ack' AND day = substr(old.created_at, 1, 10)
      AND minute = CAST((julianday(old.acknowledged_at) - julianday(old.created_at)) * 86400
                        / 60 AS INTEGER);
    UPDATE metrics_durations
    SET n = n - 1,
        total = total - (julianday(old.resolved_at) - julianday(old.created_at)) * 86400
    WHERE kind = 'resolve' AND day = substr(old.resolved_at, 1, 10)
      AND minute = CAST((julianday(old.resolved_at) - julianday(old.created_at)) * 86400
                        / 60 AS INTEGER);
    DELETE FROM metrics_durations WHERE n <= 0 AND (
        (kind = 'ack' AND day = substr(old.created_at, 1, 10))
        OR (kind = 'resolve' AND day = substr(old.resolved_at, 1, 10)));
    UPDATE metrics_outcomes
    SET resolved = resolved - 1,
        met = met - (old.resolve_met = 1 AND coalesce(old.response_met, 1) = 1),
        csat_sum = csat_sum - coalesce(old.csat, 0),
        csat_count = csat_count - (old.csat IS NOT NULL)
    WHERE old.resolve_met IS NOT NULL AND day = substr(old.resolved_at, 1, 10);
    DELETE FROM metrics_outcomes WHERE resolved <= 0 AND day = substr(old.resolved_at, 1, 10);
END;

CREATE TRIGGER metrics_ack_update AFTER UPDATE OF created_at, acknowledged_at ON incidents
WHEN old.created_at IS NOT new.created_at OR old.acknowledged_at IS NOT new.acknowledged_at
BEGIN
    UPDATE metrics_durations
    SET n = n - 1,
        total = total - (julianday(old.acknowledged_at) - julianday(old.created_at)) * 86400
    WHERE kind = 'ack' AND day = substr(old.created_at, 1, 10)
      AND minute = CAST((julianday(old.acknowledged_at) - julianday(old.created_at)) * 86400
                        / 60 AS INTEGER);
    DELETE FROM metrics_durations
    WHERE n <= 0 AND kind = 'ack' AND day = substr(old.created_at, 1, 10);
    INSERT INTO metrics_durations (kind, day, minute, n, total)
    SELECT 'ack', substr(new.created_at, 1, 10), CAST(d / 60 AS INTEGER), 1, d FROM (
        SELECT (julianday(new.acknowledged_at) - julianday(new.created_at)) * 86400 AS d
    ) WHERE d IS NOT NULL
    ON CONFLICT (kind, day, minute) DO UPDATE SET n = n + 1, total = total + excluded.total;
END;

CREATE TRIGGER metrics_resolve_update AFTER UPDATE OF created_at, resolved_at ON incidents
WHEN old.created_at IS NOT new.created_at OR old.resolved_at IS NOT new.resolved_at
BEGIN
    UPDATE metrics_durations
    SET n = n - 1,
        total = total - (julianday(old.resolved_at) - julianday(old.created_at)) * 86400
    WHERE kind = 'resolve' AND day = substr(old.resolved_at, 1, 10)
      AND minute = CAST((julianday(old.resolved_at) - julianday(old.created_at)) * 86400
                        / 60 AS INTEGER);
    DELETE FROM metrics_durations
    WHERE n <= 0 AND kind = 'resolve' AND day = substr(old.resolved_at, 1, 10);
    INSERT INTO metrics_durations (kind, day, minute, n, total)
    SELECT 'resolve', substr(new.resolved_at, 1, 10), CAST(d / 60 AS INTEGER), 1, d FROM (
        SELECT (julianday(new.resolved_at) - julianday(new.created_at)) * 86400 AS d
    ) WHERE d IS NOT NULL
    ON CONFLICT (kind, day, minute) DO UPDATE SET n = n + 1, total = total + excluded.total;
END;

CREATE TRIGGER metrics_outcome_update
AFTER UPDATE OF resolved_at, resolve_met, response_met, csat ON incidents
WHEN old.resolved_at IS NOT new.resolved_at OR old.resolve_met IS NOT new.resolve_met
    OR old.response_met IS NOT new.response_met OR old.csat IS NOT new.csat
BEGIN
    UPDATE metrics_outcomes
    SET resolved = resolved - 1,
        met = met - (old.resolve_met = 1 AND coalesce(old.response_met, 1) = 1),
        csat_sum = csat_sum - coalesce(old.csat, 0),
        csat_count = csat_count - (old.csat IS NOT NULL)
    WHERE old.resolve_met IS NOT NULL AND day = substr(old.resolved_at, 1, 10);
    DELETE FROM metrics_outcomes WHERE resolved <= 0 AND day = substr(old.resolved_at, 1, 10);
    INSERT INTO metrics_outcomes (day, resolved, met, csat_sum, csat_count)
    SELECT substr(new.resolved_at, 1, 10), 1,
           new.resolve_met = 1 AND coalesce(new.response_met, 1) = 1,
           coalesce(new.csat, 0), new.csat IS NOT NULL
    WHERE new.resolved_at IS NOT NULL AND new.resolve_met IS NOT NULL
    ON CONFLICT (day) DO UPDATE SET resolved = resolved + 1, met = met + excluded.met,
        csat_sum = csat_sum + excluded.csat_sum, csat_count = csat_count + excluded.csat_count;
END;
