"""The built-in notifiers against real servers on 127.0.0.1: an aiosmtpd SMTP server for
email, a plain HTTP server standing in for ntfy, a chat webhook and Apprise's json://
target. A send returns only after the server has answered, so what the server recorded
is there to look at: nothing here waits on the clock."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import EntryPoint
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from opsdesk.plugins.notify import registry
from opsdesk.plugins.notify.api import Message, NotifyError, Recipient
from opsdesk.plugins.notify.apprise_notifier import AppriseNotifier
from opsdesk.plugins.notify.email import EmailNotifier
from opsdesk.plugins.notify.ntfy import NtfyNotifier
from opsdesk.plugins.notify.webhook import WebhookNotifier

# Apprise imports a module Python 3.13 drops; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")

ACK = "https://ops.example/ack/12?sig=abc&t=1"
HOSTILE_TITLE = 'db down <script>alert(1)</script> <!channel> <https://evil.example|click> & "q"'


def page(**changes: Any) -> Message:
    fields: dict[str, Any] = {
        "notification_id": 7,
        "incident_key": "INC-12",
        "priority": "P1",
        "urgency": "high",
        "title": HOSTILE_TITLE,
        "body": "Checkout fails.\n<b>bold</b> @channel [x](https://evil.example)",
        "service": "checkout",
        "ack_url": ACK,
        "incident_url": "https://ops.example/incidents/INC-12",
    }
    fields.update(changes)
    return Message(**fields)


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as shared:
        yield shared


# --- a stand-in HTTP server ------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpServer:
    base: str = ""
    status: int = 200
    answer: bytes = b'{"id":"abc123"}'
    location: str = ""
    requests: list[Received] = field(default_factory=list)


@pytest.fixture
def http_server() -> Iterator[HttpServer]:
    state = HttpServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            state.requests.append(Received(self.path, dict(self.headers.items()), body))
            self.send_response(state.status)
            if state.location:
                self.send_header("Location", state.location)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(state.answer)))
            self.end_headers()
            self.wfile.write(state.answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --- email -----------------------------------------------------------------------------


class Inbox:
    """An aiosmtpd handler that keeps what it is given; RCPT answers can be scripted."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.rcpt_answer = ""

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_answer:
            return self.rcpt_answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 2.0.0 Ok: queued as 4F2"


def _refuse_all(*args: object) -> AuthResult:
    return AuthResult(success=False, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = closed_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        server_hostname="mx.test",
        auth_require_tls=False,
        authenticator=_refuse_all,
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def smtp_settings(port: int, **changes: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "security": "none",
        "sender": "opsdesk@ops.example",
        "username": "",
        "password": "",
        "timeout": 10.0,
    }
    settings.update(changes)
    return settings


ALICE = Recipient("alice", "Alice Example", "alice@example.com")


async def test_email_is_a_text_and_html_mail_with_an_ack_button(
    smtp_server: tuple[Inbox, int], client: httpx.AsyncClient
) -> None:
    inbox, port = smtp_server
    receipt = await EmailNotifier().send(page(), ALICE, smtp_settings(port), client)
    assert receipt == f"250 accepted by 127.0.0.1:{port} (2.0.0 Ok: queued as 4F2)"
    (envelope,) = inbox.envelopes
    assert envelope.mail_from == "opsdesk@ops.example"
    assert envelope.rcpt_tos == ["alice@example.com"]
    assert isinstance(envelope.content, bytes)
    mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert isinstance(mail, EmailMessage)
    assert mail["Subject"].startswith("[P1] INC-12: db down")
    assert mail["To"] == "Alice Example <alice@example.com>"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail.get_content_type() == "multipart/alternative"
    text_part, html_part = mail.get_body(("plain",)), mail.get_body(("html",))
    assert text_part is not None and html_part is not None
    text = text_part.get_content()
    assert "Checkout fails." in text and f"Acknowledge: {ACK}" in text
    markup = html_part.get_content()
    assert '<a href="https://ops.example/ack/12?sig=abc&amp;t=1"' in markup
    assert ">Acknowledge</a>" in markup
    assert "<script>" not in markup and "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    assert "<b>bold</b>" not in markup and "&lt;b&gt;bold&lt;/b&gt;" in markup
    assert "<!channel>" not in markup and "&quot;q&quot;" in markup


async def test_a_title_cannot_add_a_mail_header(
    smtp_server: tuple[Inbox, int], client: httpx.AsyncClient
) -> None:
    inbox, port = smtp_server
    title = "disk full\r\nBcc: x@evil.example\r\n\r\nforged body\nX-Evil: 1"
    await EmailNotifier().send(page(title=title), ALICE, smtp_settings(port), client)
    (envelope,) = inbox.envelopes
    assert envelope.rcpt_tos == ["alice@example.com"]
    assert isinstance(envelope.content, bytes)
    mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert "Bcc" not in mail and "X-Evil" not in mail
    assert mail["Subject"] == "[P1] INC-12: disk full Bcc: x@evil.example forged body X-Evil: 1"


@pytest.mark.parametrize(
    ("answer", "retry"), [("550 5.1.1 no such user", False), ("451 4.3.0 try later", True)]
)
async def test_a_refused_recipient_says_whether_to_retry(
    smtp_server: tuple[Inbox, int], client: httpx.AsyncClient, answer: str, retry: bool
) -> None:
    inbox, port = smtp_server
    inbox.rcpt_answer = answer
    with pytest.raises(NotifyError) as caught:
        await EmailNotifier().send(page(), ALICE, smtp_settings(port), client)
    assert caught.value.retry is retry
    assert str(caught.value) == f"127.0.0.1:{port} refused the recipient: {answer}"
    assert not inbox.envelopes


async def test_a_refused_login_never_shows_the_password(
    smtp_server: tuple[Inbox, int], client: httpx.AsyncClient
) -> None:
    _, port = smtp_server
    settings = smtp_settings(port, username="pager", password="hunter2-secret")
    with pytest.raises(NotifyError) as caught:
        await EmailNotifier().send(page(), ALICE, settings, client)
    assert caught.value.retry is False
    assert "refused the login of 'pager'" in str(caught.value)
    assert "hunter2" not in str(caught.value)


async def test_no_password_goes_out_unencrypted(client: httpx.AsyncClient) -> None:
    settings = smtp_settings(25, smtp_host="smtp.example", username="pager", password="pw12345")
    with pytest.raises(NotifyError, match="unencrypted") as caught:
        await EmailNotifier().send(page(), ALICE, settings, client)
    assert caught.value.retry is False and "pw12345" not in str(caught.value)


async def test_email_to_a_closed_port_is_a_one_line_retryable_error(
    client: httpx.AsyncClient,
) -> None:
    port = closed_port()
    with pytest.raises(NotifyError) as caught:
        await EmailNotifier().send(page(), ALICE, smtp_settings(port), client)
    assert str(caught.value) == f"cannot connect to 127.0.0.1:{port}: connection refused"
    assert caught.value.retry is True


async def test_starttls_the_server_does_not_offer_is_a_lasting_error(
    smtp_server: tuple[Inbox, int], client: httpx.AsyncClient
) -> None:
    inbox, port = smtp_server
    with pytest.raises(NotifyError, match="STARTTLS") as caught:
        await EmailNotifier().send(page(), ALICE, smtp_settings(port, security="starttls"), client)
    assert caught.value.retry is False and not inbox.envelopes


async def test_a_silent_smtp_server_times_out(client: httpx.AsyncClient) -> None:
    with socket.socket() as silent:  # listens (the kernel accepts), never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        settings = smtp_settings(port, timeout=0.3)
        with pytest.raises(NotifyError) as caught:
            await EmailNotifier().send(page(), ALICE, settings, client)
    assert str(caught.value) == f"no answer from 127.0.0.1:{port} within 0.3 s"
    assert caught.value.retry is True


@pytest.mark.parametrize(
    "address", ["", "alice", "alice@example.com, bob@example.com", "Alice <a@example.com>"]
)
async def test_only_one_plain_address_is_mailed(client: httpx.AsyncClient, address: str) -> None:
    with pytest.raises(NotifyError, match="not an email address") as caught:
        await EmailNotifier().send(
            page(), Recipient("a", "A", address), smtp_settings(closed_port()), client
        )
    assert caught.value.retry is False


# --- ntfy ------------------------------------------------------------------------------


async def test_ntfy_publishes_json_with_an_acknowledge_action(
    http_server: HttpServer, client: httpx.AsyncClient
) -> None:
    settings = {"server": http_server.base + "/", "token": "tk_secret_123"}
    receipt = await NtfyNotifier().send(
        page(), Recipient("a", "A", "ops-alice_1"), settings, client
    )
    assert receipt == "HTTP 200, ntfy id abc123"
    (request,) = http_server.requests
    assert request.path == "/"
    assert request.headers["Authorization"] == "Bearer tk_secret_123"
    sent = request.json()
    assert sent["topic"] == "ops-alice_1"
    assert sent["title"].startswith("[P1] INC-12: db down <script>")  # JSON, shown as text
    assert sent["priority"] == 5
    assert sent["tags"] == ["rotating_light", "checkout"]
    assert sent["click"] == "https://ops.example/incidents/INC-12"
    assert sent["actions"] == [
        {"action": "http", "label": "Acknowledge", "url": ACK, "method": "POST", "clear": True}
    ]
    assert "markdown" not in sent


async def test_ntfy_low_urgency_without_ack_link(
    http_server: HttpServer, client: httpx.AsyncClient
) -> None:
    message = page(urgency="low", ack_url=None, incident_url=None, body="x" * 10_000)
    await NtfyNotifier().send(
        message, Recipient("a", "A", "t"), {"server": http_server.base}, client
    )
    sent = http_server.requests[0].json()
    assert sent["priority"] == 3
    assert "actions" not in sent and "click" not in sent
    assert len(sent["message"].encode()) <= 3500
    assert "Authorization" not in http_server.requests[0].headers


@pytest.mark.parametrize("topic", ["", "a/b", "../admin", "x" * 65, "t?x=1", "täst"])
async def test_ntfy_refuses_a_topic_that_is_not_one(
    http_server: HttpServer, client: httpx.AsyncClient, topic: str
) -> None:
    with pytest.raises(NotifyError, match="not an ntfy topic") as caught:
        await NtfyNotifier().send(
            page(), Recipient("a", "A", topic), {"server": http_server.base}, client
        )
    assert caught.value.retry is False
    assert not http_server.requests


@pytest.mark.parametrize(
    ("status", "retry"), [(500, True), (503, True), (429, True), (400, False), (403, False)]
)
async def test_ntfy_errors_name_the_status(
    http_server: HttpServer, client: httpx.AsyncClient, status: int, retry: bool
) -> None:
    http_server.status = status
    http_server.answer = b'{"code":40001,"http":400,"error":"invalid request\\nsecond line"}'
    settings = {"server": http_server.base, "token": "tk_secret_123"}
    with pytest.raises(NotifyError) as caught:
        await NtfyNotifier().send(page(), Recipient("a", "A", "t"), settings, client)
    assert str(caught.value) == f"ntfy answered HTTP {status}: invalid request"
    assert caught.value.retry is retry


async def test_ntfy_at_a_closed_port_is_a_one_line_retryable_error(
    client: httpx.AsyncClient,
) -> None:
    settings = {"server": f"http://127.0.0.1:{closed_port()}", "token": "tk_secret_123"}
    with pytest.raises(NotifyError) as caught:
        await NtfyNotifier().send(page(), Recipient("a", "A", "t"), settings, client)
    line = str(caught.value)
    assert line.startswith("cannot reach ntfy: ") and "\n" not in line
    assert "tk_secret_123" not in line
    assert caught.value.retry is True


# --- webhook ---------------------------------------------------------------------------


async def test_webhook_posts_slack_text_with_untrusted_markup_escaped(
    http_server: HttpServer, client: httpx.AsyncClient
) -> None:
    http_server.answer = b"ok"
    url = http_server.base + "/hooks/T000/B000/XXXX"
    receipt = await WebhookNotifier().send(page(), Recipient("a", "A", url), {}, client)
    assert receipt == "HTTP 200"
    (request,) = http_server.requests
    assert request.path == "/hooks/T000/B000/XXXX"
    sent = request.json()
    text = sent["text"]
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "<https://evil.example|click>" not in text
    assert "&lt;https://evil.example|click&gt;" in text
    assert "&lt;script&gt;" in text and '&amp; "q"' in text
    assert "@channel" not in text  # a Mattermost mention, broken by a word joiner
    assert "](https" not in text  # a Markdown link, likewise
    assert text.count("<") == 2  # only the two links opsdesk made
    assert "<https://ops.example/ack/12?sig=abc&t=1|Acknowledge>" in text
    assert sent["opsdesk"] == {
        "notification": 7,
        "incident": "INC-12",
        "priority": "P1",
        "urgency": "high",
        "title": HOSTILE_TITLE,
        "service": "checkout",
        "ack_url": ACK,
        "incident_url": "https://ops.example/incidents/INC-12",
    }


async def test_webhook_does_not_follow_a_redirect(
    http_server: HttpServer, client: httpx.AsyncClient
) -> None:
    http_server.status = 302
    http_server.location = http_server.base + "/elsewhere"
    with pytest.raises(NotifyError) as caught:
        await WebhookNotifier().send(
            page(), Recipient("a", "A", http_server.base + "/hook"), {}, client
        )
    assert "HTTP 302" in str(caught.value) and caught.value.retry is False
    assert [r.path for r in http_server.requests] == ["/hook"]


@pytest.mark.parametrize(("status", "retry"), [(500, True), (400, False), (404, False)])
async def test_webhook_errors_name_the_status(
    http_server: HttpServer, client: httpx.AsyncClient, status: int, retry: bool
) -> None:
    http_server.status = status
    http_server.answer = b"invalid_payload"
    with pytest.raises(NotifyError) as caught:
        await WebhookNotifier().send(page(), Recipient("a", "A", http_server.base), {}, client)
    assert str(caught.value) == f"the webhook answered HTTP {status}: invalid_payload"
    assert caught.value.retry is retry


@pytest.mark.parametrize(
    "address", ["", "ftp://example.com/x", "file:///etc/passwd", "javascript:alert(1)", "/hook"]
)
async def test_webhook_only_posts_to_web_urls(client: httpx.AsyncClient, address: str) -> None:
    with pytest.raises(NotifyError, match="not an http") as caught:
        await WebhookNotifier().send(page(), Recipient("a", "A", address), {}, client)
    assert caught.value.retry is False


async def test_webhook_at_a_closed_port_is_a_one_line_retryable_error(
    client: httpx.AsyncClient,
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/hook"
    with pytest.raises(NotifyError) as caught:
        await WebhookNotifier().send(page(), Recipient("a", "A", url), {}, client)
    assert str(caught.value).startswith("cannot reach the webhook: ")
    assert "\n" not in str(caught.value) and caught.value.retry is True


# --- apprise ---------------------------------------------------------------------------


async def test_apprise_delivers_to_its_json_target(
    http_server: HttpServer, client: httpx.AsyncClient
) -> None:
    pytest.importorskip("apprise")
    url = http_server.base.replace("http://", "json://") + "/apprise/in"
    receipt = await AppriseNotifier().send(
        page(), Recipient("a", "A", url), {"timeout": 10}, client
    )
    assert receipt.startswith("delivered by Apprise")
    (request,) = http_server.requests
    assert request.path == "/apprise/in"
    sent = request.json()
    assert sent["title"].startswith("[P1] INC-12: db down")
    assert f"Acknowledge: {ACK}" in sent["message"]
    assert sent["type"] == "failure"


async def test_apprise_failures(http_server: HttpServer, client: httpx.AsyncClient) -> None:
    pytest.importorskip("apprise")
    http_server.status = 500
    url = http_server.base.replace("http://", "json://") + "/in"
    with pytest.raises(NotifyError, match="could not deliver") as caught:
        await AppriseNotifier().send(page(), Recipient("a", "A", url), {}, client)
    assert caught.value.retry is True
    secret = "nosuchscheme://token-abc-123@host/chat"
    with pytest.raises(NotifyError, match="does not understand") as caught:
        await AppriseNotifier().send(page(), Recipient("a", "A", secret), {}, client)
    assert caught.value.retry is False and "token-abc-123" not in str(caught.value)


# --- registry --------------------------------------------------------------------------


@pytest.fixture
def fresh_registry() -> Iterator[None]:
    registry.notifiers.cache_clear()
    yield
    registry.notifiers.cache_clear()


def test_the_built_ins_are_found_through_entry_points(fresh_registry: None) -> None:
    found = registry.notifiers()
    for name, cls in [
        ("email", EmailNotifier),
        ("ntfy", NtfyNotifier),
        ("webhook", WebhookNotifier),
        ("apprise", AppriseNotifier),
    ]:
        info = found[name]
        assert info.origin == "built-in" and not info.error
        assert isinstance(info.notifier, cls)
    assert registry.notifiers() is found  # scanned once


class NoSend:
    name = "nosend"


def test_a_broken_notifier_is_listed_with_its_error(
    fresh_registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = registry.GROUP
    points = [
        EntryPoint("email", "opsdesk.plugins.notify.email:EmailNotifier", group),
        EntryPoint("missing", "opsdesk_no_such_package.pager:Pager", group),
        EntryPoint("nosend", f"{__name__}:NoSend", group),
        EntryPoint("renamed", "opsdesk.plugins.notify.ntfy:NtfyNotifier", group),
        EntryPoint("email", "opsdesk.plugins.notify.webhook:WebhookNotifier", group),
    ]
    monkeypatch.setattr(registry, "entry_points", lambda group: points)
    found = registry.notifiers()
    assert isinstance(found["email"].notifier, EmailNotifier)
    assert found["missing"].notifier is None
    assert found["missing"].error.startswith("ModuleNotFoundError: No module named")
    assert "async def send" in found["nosend"].error
    assert found["renamed"].error == "TypeError: its name is 'ntfy', registered as 'renamed'"
    assert "already taken" in found["email (package ?)"].error
