-- SQLite's schema 18 (store/migrations/0018_metrics_dekads.sql): the duration histograms
-- of metrics_durations summed per dekad as well as per day, so a month of the metrics
-- strip reads ~4 dekad histograms instead of ~30 day histograms (store/stats.py).
--
-- A dekad is the days whose date shares its first nine characters: '2026-11-2' holds the
-- 20th to the 29th. Keyed by text (COLLATE "C", as SQLite compares), a dekad holds exactly
-- the day rows whose day lies in the text range [dekad, dekad + 1 in its last character).

CREATE TABLE metrics_dekads (
    kind   text COLLATE "C" NOT NULL CHECK (kind IN ('ack', 'resolve')),
    dekad  text COLLATE "C" NOT NULL,
    minute integer NOT NULL,
    n      integer NOT NULL,
    total  double precision NOT NULL,
    PRIMARY KEY (kind, dekad, minute)
);

-- Backfill (store/pg/copying.py REBUILD is the same SQL, for loads).
INSERT INTO metrics_dekads (kind, dekad, minute, n, total)
SELECT kind, substr(day, 1, 9), minute, sum(n), sum(total) FROM metrics_durations
GROUP BY kind, substr(day, 1, 9), minute;

-- Kept in step as 0001's metrics_* functions keep metrics_durations, statement for
-- statement, with the dekad (the first nine characters) where they have the day (ten).
-- SECURITY DEFINER as those: the aggregates belong to the owner, people write incidents.

CREATE FUNCTION metrics_dekads_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    d double precision;
BEGIN
    d := (julianday(NEW.acknowledged_at) - julianday(NEW.created_at)) * 86400;
    IF d IS NOT NULL THEN
        INSERT INTO metrics_dekads AS m (kind, dekad, minute, n, total)
        VALUES ('ack', substr(NEW.created_at, 1, 9), trunc(d / 60)::integer, 1, d)
        ON CONFLICT (kind, dekad, minute)
            DO UPDATE SET n = m.n + 1, total = m.total + excluded.total;
    END IF;
    d := (julianday(NEW.resolved_at) - julianday(NEW.created_at)) * 86400;
    IF d IS NOT NULL THEN
        INSERT INTO metrics_dekads AS m (kind, dekad, minute, n, total)
        VALUES ('resolve', substr(NEW.resolved_at, 1, 9), trunc(d / 60)::integer, 1, d)
        ON CONFLICT (kind, dekad, minute)
            DO UPDATE SET n = m.n + 1, total = m.total + excluded.total;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION metrics_dekads_delete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    d double precision;
BEGIN
    d := (julianday(OLD.acknowledged_at) - julianday(OLD.created_at)) * 86400;
    IF d IS NOT NULL THEN
        UPDATE metrics_dekads SET n = n - 1, total = total - d
        WHERE kind = 'ack' AND dekad = substr(OLD.created_at, 1, 9)
          AND minute = trunc(d / 60)::integer;
    END IF;
    d := (julianday(OLD.resolved_at) - julianday(OLD.created_at)) * 86400;
    IF d IS NOT NULL THEN
        UPDATE metrics_dekads SET n = n - 1, total = total - d
        WHERE kind = 'resolve' AND dekad = substr(OLD.resolved_at, 1, 9)
          AND minute = trunc(d / 60)::integer;
    END IF;
    DELETE FROM metrics_dekads WHERE n <= 0 AND (
        (kind = 'ack' AND dekad = substr(OLD.created_at, 1, 9))
        OR (kind = 'resolve' AND dekad = substr(OLD.resolved_at, 1, 9)));
    RETURN NULL;
END
$$;

CREATE FUNCTION metrics_dekads_ack_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    d double precision;
BEGIN
    d := (julianday(OLD.acknowledged_at) - julianday(OLD.created_at)) * 86400;
    IF d IS NOT NULL THEN
        UPDATE metrics_dekads SET n = n - 1, total = total - d
        WHERE kind = 'ack' AND dekad = substr(OLD.created_at, 1, 9)
          AND minute = trunc(d / 60)::integer;
    END IF;
    DELETE FROM metrics_dekads
    WHERE n <= 0 AND kind = 'ack' AND dekad = substr(OLD.created_at, 1, 9);
    d := (julianday(NEW.acknowledged_at) - julianday(NEW.created_at)) * 86400;
    IF d IS NOT NULL THEN
        INSERT INTO metrics_dekads AS m (kind, dekad, minute, n, total)
        VALUES ('ack', substr(NEW.created_at, 1, 9), trunc(d / 60)::integer, 1, d)
        ON CONFLICT (kind, dekad, minute)
            DO UPDATE SET n = m.n + 1, total = m.total + excluded.total;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION metrics_dekads_resolve_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
    d double precision;
BEGIN
    d := (julianday(OLD.resolved_at) - julianday(OLD.created_at)) * 86400;
    IF d IS NOT NULL THEN
        UPDATE metrics_dekads SET n = n - 1, total = total - d
        WHERE kind = 'resolve' AND dekad = substr(OLD.resolved_at, 1, 9)
          AND minute = trunc(d / 60)::integer;
    END IF;
    IF OLD.resolved_at IS NOT NULL THEN
        DELETE FROM metrics_dekads
        WHERE n <= 0 AND kind = 'resolve' AND dekad = substr(OLD.resolved_at, 1, 9);
    END IF;
    d := (julianday(NEW.resolved_at) - julianday(NEW.created_at)) * 86400;
    IF d IS NOT NULL THEN
        INSERT INTO metrics_dekads AS m (kind, dekad, minute, n, total)
        VALUES ('resolve', substr(NEW.resolved_at, 1, 9), trunc(d / 60)::integer, 1, d)
        ON CONFLICT (kind, dekad, minute)
            DO UPDATE SET n = m.n + 1, total = m.total + excluded.total;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER metrics_dekads_insert AFTER INSERT ON incidents
    FOR EACH ROW EXECUTE FUNCTION metrics_dekads_insert();
CREATE TRIGGER metrics_dekads_delete AFTER DELETE ON incidents
    FOR EACH ROW EXECUTE FUNCTION metrics_dekads_delete();
CREATE TRIGGER metrics_dekads_ack_update AFTER UPDATE OF created_at, acknowledged_at ON incidents
    FOR EACH ROW
    WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at
          OR OLD.acknowledged_at IS DISTINCT FROM NEW.acknowledged_at)
    EXECUTE FUNCTION metrics_dekads_ack_update();
CREATE TRIGGER metrics_dekads_resolve_update AFTER UPDATE OF created_at, resolved_at ON incidents
    FOR EACH ROW
    WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at
          OR OLD.resolved_at IS DISTINCT FROM NEW.resolved_at)
    EXECUTE FUNCTION metrics_dekads_resolve_update();

-- As 0002 does for the other aggregates: people read them, only the owner's functions
-- write them (no audit guard: they are derived from the audited incidents, whose writes
-- are guarded), and the upkeep functions are called by the triggers alone. The grant is
-- 0002's default privilege spelled out, in case the migrator could not act as
-- opsdesk_owner; tests/test_pg_schema.py applies the schema without 0002's roles.
REVOKE ALL ON metrics_dekads FROM PUBLIC;
REVOKE ALL ON FUNCTION metrics_dekads_insert(), metrics_dekads_delete(),
    metrics_dekads_ack_update(), metrics_dekads_resolve_update() FROM PUBLIC;
DO $grants$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'opsdesk_engineer') THEN
        GRANT SELECT ON metrics_dekads TO opsdesk_engineer;
    END IF;
END
$grants$;
