"""`opsdesk serve`: the HTTP receiver for pushed alerts, the acknowledgement pages, and the
pager (escalation timer and delivery worker) that runs beside them."""
