"""Signed acknowledgement links: `/ack/<token>` for one notification, so for one incident
and one person, until an expiry.

The token carries the notification id and the expiry; its MAC (HMAC-SHA256 under the
serve key) also covers the incident and the login the notification was for, read back
from the store when the link is used, so a link cannot be re-aimed at another incident
or person, and an altered id or expiry fails the check. Spending is recorded on the
notification, so a replayed link is refused too (ops/paging.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime

# ASCII digits without leading zeros and a whole-string match: exactly one spelling of
# each token verifies (no trailing newline, no other script's digits, no "007").
TOKEN = re.compile(r"(0|[1-9][0-9]{0,17})\.(0|[1-9][0-9]{0,11})\.([A-Za-z0-9_-]{43})")


class BadLink(ValueError):
    """The link is malformed, altered or expired; the message says which for the log
    (the page a person sees says only that the link does not work)."""


@dataclass(frozen=True)
class LinkClaim:
    notification_id: int
    expires: datetime


def _mac(key: bytes, notification_id: int, expires: int, incident: str, login: str) -> str:
    fields = (str(notification_id), str(expires), incident, login)
    # Each field length-prefixed: no two different field lists sign the same bytes.
    message = b"opsdesk-ack-v1" + b"".join(
        len(f.encode()).to_bytes(4, "big") + f.encode() for f in fields
    )
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(key: bytes, notification_id: int, incident: str, login: str, expires: datetime) -> str:
    stamp = int(expires.timestamp())
    return f"{notification_id}.{stamp}.{_mac(key, notification_id, stamp, incident, login)}"


def read(token: str) -> LinkClaim:
    """What a token claims, before it is checked (the caller looks the notification up)."""
    match = TOKEN.fullmatch(token)
    if match is None:
        raise BadLink("malformed token")
    try:
        expires = datetime.fromtimestamp(int(match[2]), UTC)
    except (OverflowError, OSError, ValueError):  # past year 9999
        raise BadLink("malformed token") from None
    return LinkClaim(int(match[1]), expires)


def verify(key: bytes, token: str, incident: str, login: str, now: datetime) -> LinkClaim:
    """The claim if the token was signed with `key` for this incident and login and has
    not expired; BadLink otherwise. Compared in constant time."""
    claim = read(token)
    match = TOKEN.fullmatch(token)
    assert match is not None
    expected = _mac(key, claim.notification_id, int(match[2]), incident, login)
    if not hmac.compare_digest(expected, match[3]):
        raise BadLink("signature does not match")
    if now >= claim.expires:
        raise BadLink("expired")
    return claim
