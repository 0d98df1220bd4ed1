"""The acknowledgement pages: a one-page confirm form and its answer. Everything shown
comes from the store (untrusted) and is HTML-escaped; the pages load nothing else."""

from __future__ import annotations

from html import escape

STYLE = (
    "body{font:16px/1.4 system-ui,sans-serif;max-width:34em;margin:2em auto;padding:0 1em}"
    "button{font-size:1.1em;padding:.6em 1.4em}.muted{color:#666}"
)
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "Referrer-Policy": "no-referrer",  # the token is in the URL
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def confirm(incident_key: str, title: str, priority: str, state: str, login: str) -> str:
    return page(
        f"Acknowledge {incident_key}",
        f"<h1>{escape(incident_key)} · {escape(priority)}</h1><p>{escape(title)}</p>"
        f'<p class="muted">State: {escape(state)}. You acknowledge as <b>{escape(login)}</b>.</p>'
        '<form method="post"><button type="submit">Acknowledge</button></form>',
    )


def answer(heading: str, text: str) -> str:
    return page(heading, f"<h1>{escape(heading)}</h1><p>{escape(text)}</p>")
