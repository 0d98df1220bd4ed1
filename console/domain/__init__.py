"""Pure rules over records and `now`: SLA clocks and business time, the incident
lifecycle, change rules and conflicts, on-call rotations and roster checks, metrics,
availability, text cleaning and the iCalendar export. No I/O, no Textual, no SQL."""
