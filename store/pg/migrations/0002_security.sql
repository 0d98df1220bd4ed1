-- 0002: the database as the security boundary.
--
-- Each person connects as their own LOGIN role; what they may do comes from membership of
-- opsdesk's group roles, and the rules that protect people are checked here, so a person
-- holding `psql` and their own login cannot step around them. docs/operations.md
-- ("Security on PostgreSQL") lists which rules live here and which only in opsdesk.
--
-- Run by the migration runner (store/pg/db.py) as a superuser on first open, or later as
-- opsdesk_owner (which needs CREATEROLE and must own the database). Roles are
-- cluster-wide, so they are created only when missing.
--
-- Bulk loads of history: `opsdesk store copy` into PostgreSQL runs as a member of
-- opsdesk_owner (or a superuser) with `ALTER TABLE ... DISABLE TRIGGER USER` inside its one
-- transaction (store/pg/copying.py; foreign keys stay checked, nobody else sees the
-- triggers off); a data-only `pg_restore --disable-triggers` runs as a superuser. Then none
-- of the triggers below fire and rows (audit ids, hashes, actors, who-columns) go in as they
-- were. Afterwards `opsdesk audit --verify` checks the chain.

-- 1. Roles -----------------------------------------------------------------------------

DO $roles$
DECLARE
    name text;
    acting text := current_user;
BEGIN
    -- CREATEROLE: this migration creates the group roles, and opsdesk_grant/opsdesk_revoke
    -- below (security definer) create logins and grant those four roles; nothing else does.
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'opsdesk_owner') THEN
        CREATE ROLE opsdesk_owner NOLOGIN CREATEROLE;
    ELSIF NOT (SELECT rolcreaterole FROM pg_roles WHERE rolname = 'opsdesk_owner') THEN
        IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN
            RAISE EXCEPTION 'opsdesk_owner exists without CREATEROLE; as a superuser run: '
                'ALTER ROLE opsdesk_owner CREATEROLE';
        END IF;
        -- A superuser connected and the runner became opsdesk_owner: provision it as that
        -- superuser, then act as opsdesk_owner again.
        SET LOCAL ROLE NONE;
        ALTER ROLE opsdesk_owner CREATEROLE;
        EXECUTE format('SET LOCAL ROLE %I', acting);
    END IF;
    FOREACH name IN ARRAY ARRAY['opsdesk_engineer', 'opsdesk_lead', 'opsdesk_admin',
                                'opsdesk_cab'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = name) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', name);
        END IF;
    END LOOP;
    FOREACH name IN ARRAY ARRAY['opsdesk_lead', 'opsdesk_admin', 'opsdesk_cab'] LOOP
        IF NOT pg_has_role(name, 'opsdesk_engineer', 'MEMBER') THEN
            EXECUTE format('GRANT opsdesk_engineer TO %I', name);
        END IF;
    END LOOP;
END
$roles$;

-- PUBLIC (every role of the cluster) gets nothing; members of engineer connect and read.
DO $public$
BEGIN
    IF NOT (pg_has_role(current_user, (SELECT datdba FROM pg_database
                                      WHERE datname = current_database()), 'MEMBER')) THEN
        RAISE EXCEPTION 'migration 0002 must run as the owner of database % or a superuser',
            current_database();
    END IF;
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO opsdesk_engineer', current_database());
END
$public$;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
-- opsdesk_owner also when the database belongs to someone else: its security definer
-- functions (0001's metrics upkeep) must still find what they call, and later migrations
-- run as it create objects here.
GRANT USAGE, CREATE ON SCHEMA public TO opsdesk_owner;
GRANT USAGE ON SCHEMA public TO opsdesk_engineer;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE opsdesk_owner IN SCHEMA public
    REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE opsdesk_owner IN SCHEMA public
    GRANT SELECT ON TABLES TO opsdesk_engineer;

-- Who holds an opsdesk role, as store/records.py Actor.has says: admins hold every role.
-- No SET search_path, so the planner can inline it; it calls only pg_catalog's functions
-- (searched first, and nobody but opsdesk_owner may create functions here).
CREATE OR REPLACE FUNCTION opsdesk_holds(role text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN role = 'engineer' THEN pg_has_role(session_user, 'opsdesk_engineer', 'MEMBER')
        ELSE pg_has_role(session_user, 'opsdesk_' || role, 'MEMBER')
             OR pg_has_role(session_user, 'opsdesk_admin', 'MEMBER') END
$$;

-- 2. The audit log ---------------------------------------------------------------------

-- txid: the transaction that appended the row (the deferred checks below look for it);
-- db_at: the server's clock at that transaction's start (`at` stays the client's: tests
-- and the demo pin time; db_at is what a forensic look trusts). Neither is hashed.
ALTER TABLE audit ADD COLUMN IF NOT EXISTS txid bigint;
ALTER TABLE audit ADD COLUMN IF NOT EXISTS db_at timestamptz;
CREATE INDEX IF NOT EXISTS audit_txid ON audit (txid);

-- store/audit.py entry_hash, byte for byte: SHA-256 (hex) over the chain prefix, then the
-- previous entry's hash and this entry's id, at, actor, action, entity, entity_key, before
-- and after, each as `<byte length>:<UTF-8 bytes>,` and NULL as `-,`. PL/pgSQL with no
-- string literal that a session setting (standard_conforming_strings) could reread: its
-- plans are cached, where the same in nested SQL functions, not inlinable, cost 20x more.
CREATE OR REPLACE FUNCTION opsdesk_entry_hash(
    previous text, id bigint, at text, actor text, action text, entity text,
    entity_key text, before text, after text
) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    chained bytea := convert_to(E'opsdesk audit chain 1\n', 'UTF8');
    field text;
    data bytea;
BEGIN
    FOREACH field IN ARRAY ARRAY[previous, id::text, at, actor, action, entity, entity_key,
                                 before, after] LOOP
        IF field IS NULL THEN
            chained := chained || convert_to('-,', 'UTF8');
        ELSE
            data := convert_to(field, 'UTF8');
            chained := chained || convert_to(length(data)::text || ':', 'UTF8') || data
                       || convert_to(',', 'UTF8');
        END IF;
    END LOOP;
    RETURN encode(sha256(chained), 'hex');
END
$$;

-- Every append: the actor is the role that authenticated, whatever the client sent; one
-- appender at a time across all hosts (the lock is held to commit), so the next id is the
-- newest + 1 and the hash chains to it. Read Committed (opsdesk's level) lets the SELECT
-- after the lock see the previous appender's committed row; under a stricter level a
-- racing append fails on the primary key instead of forking the chain.
CREATE OR REPLACE FUNCTION opsdesk_audit_append() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    last_id bigint;
    last_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock(8030045010570601577);  -- 0x6F70_7364_6175_6469, 'opsdaudi'
    SELECT a.id, a.hash INTO last_id, last_hash FROM public.audit AS a ORDER BY a.id DESC LIMIT 1;
    NEW.id := coalesce(last_id, 0) + 1;
    NEW.actor := session_user;
    NEW.txid := txid_current();
    NEW.db_at := now();
    NEW.hash := public.opsdesk_entry_hash(last_hash, NEW.id, NEW.at, NEW.actor, NEW.action,
                                   NEW.entity, NEW.entity_key, NEW.before, NEW.after);
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER audit_append BEFORE INSERT ON audit
    FOR EACH ROW EXECUTE FUNCTION opsdesk_audit_append();

-- Append-only even for the owner: lifting this takes a migration (ALTER TABLE ... DISABLE
-- TRIGGER), which only the owner can run, and which the next verify would show.
CREATE OR REPLACE FUNCTION opsdesk_audit_refuse() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit rows are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE OR REPLACE TRIGGER audit_refuses_update BEFORE UPDATE ON audit
    FOR EACH ROW EXECUTE FUNCTION opsdesk_audit_refuse();
CREATE OR REPLACE TRIGGER audit_refuses_delete BEFORE DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION opsdesk_audit_refuse();
CREATE OR REPLACE TRIGGER audit_refuses_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION opsdesk_audit_refuse();

-- No change to an audited table commits without an audit row appended by the same
-- transaction. Checked at commit (deferred), once per changed row: one probe of
-- audit_txid. A transaction-local setting would be cheaper but any client can SET it;
-- an audit row cannot be faked away (insert-only, actor set here).
CREATE OR REPLACE FUNCTION opsdesk_require_audit() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM public.audit WHERE txid = txid_current()) THEN
        RAISE EXCEPTION 'a change to % needs an audit row in the same transaction',
            TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END
$$;
DO $audited$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['incidents', 'changes', 'change_approvals', 'change_links',
        'change_events', 'overrides', 'banner', 'problems', 'problem_incidents',
        'problem_events', 'reviews', 'action_items'] LOOP
        EXECUTE format('CREATE CONSTRAINT TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I'
            ' DEFERRABLE INITIALLY DEFERRED FOR EACH ROW'
            ' EXECUTE FUNCTION opsdesk_require_audit()', name || '_audited', name);
    END LOOP;
END
$audited$;
-- Handoff notes: writing one is audited; marking it seen (its reader, store/handoffs.py
-- mark_seen) is not.
CREATE CONSTRAINT TRIGGER handoff_notes_audited AFTER INSERT OR DELETE ON handoff_notes
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION opsdesk_require_audit();

-- 3. Who did it: set from session_user, never from the client --------------------------

-- TG_ARGV[0]: columns set on INSERT, TG_ARGV[1]: columns set on UPDATE (comma-separated,
-- '' for none). Columns naming the creator are not updatable at all (see the grants).
CREATE OR REPLACE FUNCTION opsdesk_stamp_who() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    columns text := CASE WHEN TG_OP = 'INSERT' THEN TG_ARGV[0] ELSE TG_ARGV[1] END;
    stamp jsonb := '{}';
    name text;
BEGIN
    FOREACH name IN ARRAY string_to_array(columns, ',') LOOP
        stamp := stamp || jsonb_build_object(name, session_user);
    END LOOP;
    RETURN jsonb_populate_record(NEW, stamp);
END
$$;
DO $stamps$
DECLARE
    spec text[];
BEGIN
    FOREACH spec SLICE 1 IN ARRAY ARRAY[
        ['incidents', 'reporter,updated_by', 'updated_by'],
        ['incident_events', 'actor', ''],
        ['changes', 'requester,updated_by', 'updated_by'],
        ['change_links', 'linked_by', ''],
        ['change_events', 'actor', ''],
        ['overrides', 'created_by', ''],
        ['banner', 'set_by', 'set_by'],
        ['handoff_notes', 'author', ''],
        ['problems', 'created_by,updated_by', 'updated_by'],
        ['problem_incidents', 'linked_by', ''],
        ['problem_events', 'actor', ''],
        ['reviews', 'created_by,updated_by', 'updated_by'],
        ['action_items', 'created_by,updated_by', 'updated_by'],
        ['notifications', 'created_by', '']
    ] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE INSERT%s ON %I FOR EACH ROW'
            ' EXECUTE FUNCTION opsdesk_stamp_who(%L, %L)', spec[1] || '_who',
            CASE WHEN spec[3] = '' THEN '' ELSE ' OR UPDATE' END, spec[1], spec[2], spec[3]);
    END LOOP;
END
$stamps$;

-- An accepted review is final (store/reviews.py); accepting it names the acceptor from
-- session_user. Which role may accept is configuration ([reviews]), so opsdesk checks that.
CREATE OR REPLACE FUNCTION opsdesk_review_acceptor() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF OLD.state = 'accepted' THEN
        RAISE EXCEPTION 'the review of INC-% was accepted by %; it is final',
            OLD.incident_id, OLD.accepted_by USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.accepted_by IS DISTINCT FROM OLD.accepted_by THEN
        NEW.accepted_by := session_user;
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER reviews_acceptor BEFORE UPDATE ON reviews
    FOR EACH ROW EXECUTE FUNCTION opsdesk_review_acceptor();

-- 4. Nobody approves their own change --------------------------------------------------

-- As store/changes.py decider_refusal: only CAB members and leads (admins hold both)
-- decide, never on a change they requested. The decider and the roles recorded with the
-- decision are the authenticated role's, not what the client sent.
ALTER TABLE change_approvals ADD COLUMN IF NOT EXISTS txid bigint;
CREATE OR REPLACE FUNCTION opsdesk_change_decision() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    requested_by text;
    held text[];
BEGIN
    IF NOT (public.opsdesk_holds('cab') OR public.opsdesk_holds('lead')) THEN
        RAISE EXCEPTION 'approving changes needs the cab or lead role; % has neither',
            session_user USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT c.requester INTO requested_by FROM public.changes AS c WHERE c.id = NEW.change_id;
    IF requested_by = session_user THEN
        RAISE EXCEPTION 'CHG-% is your own change; someone else decides', NEW.change_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    held := ARRAY(SELECT r FROM unnest(ARRAY['cab', 'lead']) AS r WHERE public.opsdesk_holds(r)
                  ORDER BY r);
    NEW.actor := session_user;
    -- json.dumps(sorted(roles)) as store/changes.py writes it
    NEW.roles := '[' || coalesce((SELECT string_agg('"' || r || '"', ', ' ORDER BY r)
                                  FROM unnest(held) AS r), '') || ']';
    NEW.txid := txid_current();
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER change_approvals_decider BEFORE INSERT ON change_approvals
    FOR EACH ROW EXECUTE FUNCTION opsdesk_change_decision();

-- A change starts as a draft (store/changes.py create), and leaves `submitted` for a
-- decided state only in the transaction where the same person recorded that decision: so
-- neither an INSERT nor an UPDATE can skip the approval above.
CREATE OR REPLACE FUNCTION opsdesk_change_decided() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.state <> 'draft' THEN
            RAISE EXCEPTION 'a change starts as a draft, not %', NEW.state
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.state = 'submitted' AND NEW.state IN ('approved', 'scheduled', 'rejected')
       AND NOT EXISTS (
           SELECT 1 FROM public.change_approvals AS a
           WHERE a.change_id = NEW.id AND a.txid = txid_current() AND a.actor = session_user
             AND a.decision = CASE NEW.state WHEN 'rejected' THEN 'reject' ELSE 'approve' END)
    THEN
        RAISE EXCEPTION 'CHG-% moves from submitted to % only with a decision by a CAB member'
            ' or lead recorded in the same transaction', NEW.id, NEW.state
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER changes_decided BEFORE INSERT OR UPDATE OF state ON changes
    FOR EACH ROW EXECUTE FUNCTION opsdesk_change_decided();

-- 5. What each role may do -------------------------------------------------------------

GRANT SELECT ON ALL TABLES IN SCHEMA public TO opsdesk_engineer;
-- The SQL the repositories run calls 0001's helpers (julianday, min, max, json_each...)
-- and these; security definer functions (the metrics upkeep, granting roles) are called
-- only by triggers or as granted below, never directly by an engineer.
DO $execute$
DECLARE
    item text;
BEGIN
    FOR item IN SELECT format('public.%I(%s)', p.proname, pg_get_function_identity_arguments(p.oid))
                FROM pg_proc AS p
                WHERE p.pronamespace = 'public'::regnamespace AND NOT p.prosecdef
                  AND p.prorettype <> 'trigger'::regtype LOOP
        EXECUTE format('GRANT EXECUTE ON ROUTINE %s TO opsdesk_engineer', item);
    END LOOP;
END
$execute$;

GRANT INSERT ON audit TO opsdesk_engineer;

-- Columns mirror each repository's CHANGEABLE set plus the version stamp
-- (Transaction.update_versioned); columns naming who created a row are never updatable.
GRANT INSERT, UPDATE (state, hold_reason, assignee, impact, urgency, priority,
    acknowledged_at, resolved_at, closed_at, resolution_code, resolution_note, csat,
    response_due, resolve_due, response_met, resolve_met, escalation_level, escalation_at,
    escalation_round, version, updated_at, updated_by) ON incidents TO opsdesk_engineer;
GRANT INSERT ON incident_events TO opsdesk_engineer;
GRANT INSERT, UPDATE (title, type, risk, services, planned_start, planned_end, implementer,
    description, test_plan, backout_plan, risk_justification, risk_answers, state,
    conflicts_ack, review, version, updated_at, updated_by) ON changes TO opsdesk_engineer;
GRANT INSERT ON change_approvals, change_links, change_events TO opsdesk_engineer;
GRANT INSERT, UPDATE (title, description, services, state, owner, root_cause, workaround,
    fix_change_id, resolved_at, closed_at, version, updated_at, updated_by)
    ON problems TO opsdesk_engineer;
GRANT INSERT, DELETE ON problem_incidents TO opsdesk_engineer;  -- unlinking an incident
GRANT INSERT ON problem_events TO opsdesk_engineer;
GRANT INSERT, UPDATE (summary, customers, duration_minutes, sla_breached, root_cause,
    contributing_factors, went_well, lucky, state, accepted_by, accepted_at, version,
    updated_at, updated_by) ON reviews TO opsdesk_engineer;
GRANT INSERT, UPDATE (title, type, owner, due, state, problem_id, change_id, note, done_at,
    version, updated_at, updated_by) ON action_items TO opsdesk_engineer;
GRANT INSERT, UPDATE (seen_at) ON handoff_notes TO opsdesk_engineer;
GRANT INSERT, DELETE ON overrides TO opsdesk_engineer;  -- removing an override
-- Machine-observed state (status polls, the paging outbox, leases): every console polls,
-- so engineers write it; it carries no audit row (store/db.py observe).
GRANT INSERT, UPDATE (state, claimed_by, claimed_until, attempts, error, not_before, receipt,
    sent_at, acknowledged_at, acknowledged_via) ON notifications TO opsdesk_engineer;
GRANT INSERT, UPDATE ON source_status TO opsdesk_engineer;
GRANT INSERT ON status_history TO opsdesk_engineer;
GRANT INSERT, UPDATE, DELETE ON leases TO opsdesk_engineer;

-- The banner only for leads (admins hold lead).
GRANT UPDATE (text, set_by, set_at, version) ON banner TO opsdesk_lead, opsdesk_admin;

-- Row rules (store/overrides.py, store/handoffs.py): an engineer may put only themself on
-- call, a lead anyone; an override is removed by whoever created it, the person it puts
-- on call, or a lead; a handoff note is marked seen only by the person it is for.
ALTER TABLE overrides ENABLE ROW LEVEL SECURITY;
CREATE POLICY overrides_read ON overrides FOR SELECT USING (true);
CREATE POLICY overrides_add ON overrides FOR INSERT
    WITH CHECK (login = session_user OR opsdesk_holds('lead'));
CREATE POLICY overrides_remove ON overrides FOR DELETE
    USING (session_user IN (created_by, login) OR opsdesk_holds('lead'));

ALTER TABLE handoff_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY handoff_notes_read ON handoff_notes FOR SELECT USING (true);
CREATE POLICY handoff_notes_add ON handoff_notes FOR INSERT WITH CHECK (true);
CREATE POLICY handoff_notes_seen ON handoff_notes FOR UPDATE
    USING (for_login = session_user) WITH CHECK (for_login = session_user);

-- Granting opsdesk roles: only through these two, callable by admins. Nobody else needs
-- CREATEROLE (on PostgreSQL 15 a role with it could grant itself opsdesk_owner).
CREATE OR REPLACE FUNCTION opsdesk_grant(login text, role text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    existing pg_roles%ROWTYPE;
BEGIN
    IF role NOT IN ('engineer', 'lead', 'admin', 'cab') THEN
        RAISE EXCEPTION 'unknown opsdesk role %; choose engineer, lead, admin or cab', role
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF login IS NULL OR login = '' OR login LIKE 'opsdesk\_%' OR login LIKE 'pg\_%' THEN
        RAISE EXCEPTION '% cannot be a person''s login', coalesce(login, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO existing FROM pg_roles WHERE rolname = login;
    IF NOT FOUND THEN
        EXECUTE format('CREATE ROLE %I LOGIN', login);
    ELSIF existing.rolsuper OR NOT existing.rolcanlogin THEN
        RAISE EXCEPTION '% is not a person''s login (a superuser or a group role)', login
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    EXECUTE format('GRANT %I TO %I', 'opsdesk_' || role, login);
END
$$;
CREATE OR REPLACE FUNCTION opsdesk_revoke(login text, role text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF role NOT IN ('engineer', 'lead', 'admin', 'cab') THEN
        RAISE EXCEPTION 'unknown opsdesk role %; choose engineer, lead, admin or cab', role
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = login AND rolcanlogin
                   AND NOT rolsuper) THEN
        RAISE EXCEPTION 'no login named %', login USING ERRCODE = 'undefined_object';
    END IF;
    EXECUTE format('REVOKE %I FROM %I', 'opsdesk_' || role, login);
END
$$;
REVOKE ALL ON FUNCTION opsdesk_grant(text, text), opsdesk_revoke(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION opsdesk_grant(text, text), opsdesk_revoke(text, text)
    TO opsdesk_admin;

-- 6. Everything belongs to opsdesk_owner ------------------------------------------------

-- Owned by no person, so no person can drop a trigger or a policy above; the security
-- definer functions run as opsdesk_owner (never as the superuser who first migrated).
DO $owner$
DECLARE
    item record;
BEGIN
    FOR item IN
        SELECT format('ALTER %s %s OWNER TO opsdesk_owner',
                      CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                                     WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
                      c.oid::regclass) AS statement
        FROM pg_class AS c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
          AND c.relowner <> 'opsdesk_owner'::regrole
          -- a sequence owned by a table column moves with its table
          AND NOT EXISTS (SELECT 1 FROM pg_depend AS d WHERE d.objid = c.oid
                          AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))
        UNION ALL
        SELECT format('ALTER %s %s OWNER TO opsdesk_owner',
                      CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE'
                                     ELSE 'FUNCTION' END,
                      format('public.%I(%s)', p.proname,
                             pg_get_function_identity_arguments(p.oid)))
        FROM pg_proc AS p
        WHERE p.pronamespace = 'public'::regnamespace
          AND p.proowner <> 'opsdesk_owner'::regrole
    LOOP
        EXECUTE item.statement;
    END LOOP;
END
$owner$;
