"""Status adapters and the plugin API.

`api` is the contract (StatusReport and friends, the Adapter base class, HTTP helpers
with size caps and conditional requests); `registry` finds plugins through the
entry-point group `opsdesk.plugins` and in files named in config. The built-in adapters
(statuspage, alertmanager, prometheus, http, rss, slack) register through the same entry
points. Adapters never import the store or the UI (import-linter enforces it).
"""
