"""The PostgreSQL store: the same repositories as SQLite's, over psycopg 3 (an optional
extra: `pip install 'opsdesk[postgres]'`). Imported only when a store URL names it."""
