"""The email channel: a page as a text + HTML mail, sent with the standard library.

Mail is the channel everyone has, so it needs nothing installed: the message is built
with `email.message.EmailMessage` (whose policy refuses a header value holding a line
break; titles are flattened to one clean line before that, so an alert title cannot add
a Bcc) and sent with `smtplib` in a worker thread, since smtplib blocks. The HTML part
escapes every untrusted string; the text part is there for clients that show no HTML.
"""

from __future__ import annotations

import asyncio
import html
import re
import smtplib
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import formataddr, formatdate, make_msgid
from typing import Any, ClassVar

import httpx

from opsdesk.plugins.notify.api import (
    Message,
    NotifyError,
    Recipient,
    clean,
    is_web_url,
    redact,
    subject_line,
)

MAX_BODY = 100_000
SECURITY = ("none", "starttls", "tls")
# One plain address: no display name, list, route or whitespace (where a page goes is
# the config's choice, and a comma would make it two places).
_ADDRESS = re.compile(r"[^\s@,;<>()\[\]\\\"]+@[^\s@,;<>()\[\]\\\"]+")
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class _Smtp:
    """The `[notify.email]` settings a send needs, checked."""

    host: str
    port: int
    security: str
    sender: str
    username: str
    password: str
    timeout: float

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


class EmailNotifier:
    """Email over SMTP (text and HTML, with an Acknowledge link); `[notify.email]`."""

    name: ClassVar[str] = "email"

    async def send(
        self,
        message: Message,
        recipient: Recipient,
        settings: Mapping[str, Any],
        client: httpx.AsyncClient,
    ) -> str:
        smtp = _settings(settings)
        to = recipient.address.strip()
        if not _ADDRESS.fullmatch(to):
            raise NotifyError(f"not an email address: {clean(to, 80)!r}", retry=False)
        mail = build(message, recipient, smtp.sender)
        return await asyncio.to_thread(_transmit, smtp, mail, to)


def build(message: Message, recipient: Recipient, sender: str) -> EmailMessage:
    """The mail for one page: Subject `[P1] INC-12: title`, a text part and an HTML
    part with an Acknowledge button when the page has an ack link."""
    mail = EmailMessage()
    mail["Subject"] = _header(subject_line(message))
    mail["From"] = sender
    mail["To"] = formataddr((_header(recipient.name), recipient.address.strip()))
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = make_msgid("opsdesk", domain=sender.rpartition("@")[2] or None)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: vacation responders stay quiet
    if message.incident_key:
        mail["X-Opsdesk-Incident"] = _header(message.incident_key)
    # quoted-printable, not 8bit: a relay without 8BITMIME still passes it unchanged
    mail.set_content(_text(message), cte="quoted-printable")
    mail.add_alternative(_html(message), subtype="html", cte="quoted-printable")
    return mail


def _header(text: str) -> str:
    """One line without control characters: nothing in it can start another header."""
    return " ".join(clean(text, 200).split())


def _links(message: Message) -> tuple[str | None, str | None]:
    ack = message.ack_url if is_web_url(message.ack_url) else None
    incident = message.incident_url if is_web_url(message.incident_url) else None
    return ack, incident


def _text(message: Message) -> str:
    ack, incident = _links(message)
    parts = [subject_line(message), "", clean(message.body, MAX_BODY)]
    if message.service:
        parts[1:1] = [f"Service: {_header(message.service)}"]
    if ack:
        parts += ["", f"Acknowledge: {ack}"]
    if incident:
        parts += ["", f"Incident: {incident}"]
    return "\n".join(parts) + "\n"


def _html(message: Message) -> str:
    ack, incident = _links(message)
    e = html.escape
    lines = "<br>\n".join(e(line) for line in clean(message.body, MAX_BODY).split("\n"))
    out = [
        '<!DOCTYPE html>\n<html><body style="font-family: sans-serif; font-size: 14px">',
        f'<h2 style="font-size: 16px">{e(subject_line(message))}</h2>',
    ]
    if message.service:
        out.append(f"<p>Service: {e(_header(message.service))}</p>")
    out.append(f"<p>{lines}</p>")
    if ack:
        out.append(
            f'<p><a href="{e(ack)}" style="display: inline-block; padding: 8px 16px; '
            'background: #b3261e; color: #ffffff; text-decoration: none; border-radius: 4px">'
            "Acknowledge</a></p>"
        )
    if incident:
        out.append(f'<p><a href="{e(incident)}">Open the incident</a></p>')
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _settings(settings: Mapping[str, Any]) -> _Smtp:
    security = str(settings.get("security", "none"))
    if security not in SECURITY:
        raise NotifyError(f"unknown SMTP security {security!r} (none, starttls, tls)", retry=False)
    host = str(settings.get("smtp_host", "localhost")).strip()
    port = settings.get("smtp_port", 465 if security == "tls" else 25)
    sender = str(settings.get("sender", "opsdesk@localhost")).strip()
    if not host or not isinstance(port, int) or not 0 < port < 65536:
        raise NotifyError(f"bad SMTP server {host!r} port {port!r}", retry=False)
    if not _ADDRESS.fullmatch(sender):
        raise NotifyError(f"the sender is not an email address: {clean(sender, 80)!r}", retry=False)
    smtp = _Smtp(
        host=host,
        port=port,
        security=security,
        sender=sender,
        username=str(settings.get("username") or ""),
        password=str(settings.get("password") or ""),
        timeout=float(settings.get("timeout") or 10.0),
    )
    if smtp.username and security == "none" and host not in _LOOPBACK:
        raise NotifyError(
            f"not sending the SMTP password to {smtp.where} unencrypted: "
            "set security to starttls or tls",
            retry=False,
        )
    return smtp


def _transmit(smtp: _Smtp, mail: EmailMessage, to: str) -> str:
    """Connect, (STARTTLS,) log in, and hand the mail over; runs in a thread. Each step is
    done by hand rather than with send_message, to see the server's answer to each."""
    try:
        return _session(smtp, mail, to)
    except Exception as exc:
        raise _failure(exc, smtp) from None


def _session(smtp: _Smtp, mail: EmailMessage, to: str) -> str:
    context = ssl.create_default_context()
    connection: smtplib.SMTP
    if smtp.security == "tls":
        connection = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
    else:
        connection = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    with connection:
        connection.ehlo_or_helo_if_needed()
        if smtp.security == "starttls":
            connection.starttls(context=context)
            connection.ehlo()
        if smtp.username:
            connection.login(smtp.username, smtp.password)
        options: list[str] = []
        policy = SMTP
        if not (smtp.sender + to).isascii():
            if not connection.has_extn("smtputf8"):
                raise NotifyError(
                    f"{smtp.where} cannot take a non-ASCII address (no SMTPUTF8)", retry=False
                )
            options, policy = ["SMTPUTF8", "BODY=8BITMIME"], SMTPUTF8
        code, reply = connection.mail(smtp.sender, options)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, smtp.sender)
        code, reply = connection.rcpt(to)
        if code not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({to: (code, reply)})
        code, reply = connection.data(mail.as_bytes(policy=policy))
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
    said = _said(reply, 80)
    return f"{code} accepted by {smtp.where}" + (f" ({said})" if said else "")


def _said(reply: bytes | str, limit: int = 160) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(clean(text, limit).split())


def _failure(exc: Exception, smtp: _Smtp) -> NotifyError:
    """One line for what went wrong, never holding the password; `retry` when a later
    try may succeed (the server is down, busy, or said 4xx)."""
    where = smtp.where
    reason: str
    retry = True
    if isinstance(exc, NotifyError):
        return exc
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()), (0, b""))
        reason, retry = f"{where} refused the recipient: {code} {_said(reply)}", code < 500
    elif isinstance(exc, smtplib.SMTPSenderRefused):
        reason = (
            f"{where} refused the sender {smtp.sender}: {exc.smtp_code} {_said(exc.smtp_error)}"
        )
        retry = exc.smtp_code < 500
    elif isinstance(exc, smtplib.SMTPAuthenticationError):
        reason = f"{where} refused the login of {smtp.username!r}: {exc.smtp_code} "
        reason += _said(exc.smtp_error)
        retry = False
    elif isinstance(exc, smtplib.SMTPNotSupportedError):
        reason, retry = f"{where} does not support it: {exc}", False
    elif isinstance(exc, smtplib.SMTPResponseException):
        reason = f"{where} answered {exc.smtp_code} {_said(exc.smtp_error)}"
        retry = exc.smtp_code < 500
    elif isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        # smtplib reports a reply that never came as "Connection unexpectedly closed"
        reason = f"no answer from {where} within {smtp.timeout:g} s"
    elif isinstance(exc, smtplib.SMTPServerDisconnected):
        reason = f"{where} closed the connection ({exc})"
    elif isinstance(exc, ConnectionRefusedError):
        reason = f"cannot connect to {where}: connection refused"
    elif isinstance(exc, socket.gaierror):
        reason = f"cannot find {smtp.host}: {exc.strerror or exc}"
    elif isinstance(exc, ssl.SSLCertVerificationError):
        reason, retry = f"TLS with {where} failed: {exc.verify_message or exc}", False
    elif isinstance(exc, ssl.SSLError):
        reason = f"TLS with {where} failed: {exc.reason or exc}"
    elif isinstance(exc, OSError):
        reason = f"cannot talk to {where}: {exc.strerror or exc}"
    else:
        reason = f"sending to {where} failed: {type(exc).__name__}: {exc}"
    secrets = [smtp.password] if smtp.password else []
    line = " ".join(redact(clean(reason, 300), secrets).split())
    return NotifyError(line, retry=retry)
