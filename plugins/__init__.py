"""Status adapters and the plugin API (entry point group `opsdesk.plugins`); built by the
vendors issue. Adapters never import the store or the UI (import-linter enforces it)."""
