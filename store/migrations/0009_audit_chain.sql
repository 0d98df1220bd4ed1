-- Schema 9: a tamper-evident audit log. Each audit row holds `hash`, the SHA-256 of the
-- previous row's hash and its own content (id, at, actor, action, entity, entity_key,
-- before, after as stored; store/audit.py entry_hash), written in the transaction that
-- writes the row. Rows written before this schema are chained by store/db.py right after
-- this script, in the same migration transaction (SQL has no SHA-256), lifting the trigger
-- that refuses UPDATE for those UPDATEs only and putting it back word for word.
-- `opsdesk audit --verify` walks the chain. It makes changes evident, not impossible:
-- whoever can write this file can recompute every hash (docs/operations.md).
ALTER TABLE audit ADD COLUMN hash TEXT;
