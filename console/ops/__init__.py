"""Use cases that the CLI and the console both call: incidents, changes, on-call
(overrides and handoffs), metrics, the session (config + store + actor), identity, the
status poller, the live feed and the demo. Every write goes through the store's
role-checked, audited operations."""
