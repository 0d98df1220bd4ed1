"""What every request to an integration passes before its payload is looked at: the
secret (compared in constant time), a rate limit, a body size cap, a JSON depth cap.

Refusals say little: a wrong or missing secret and an unknown integration get the same
answer, so a prober learns nothing about which integrations exist.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsdesk.console.config.model import Integration
from opsdesk.console.domain.inbound import json_depth_ok
from opsdesk.console.errors import ConfigError

MAX_DEPTH = 32


class Refusal(Exception):
    """An HTTP refusal: status, one-line message, extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def read_secret(integration: Integration, base: Path | None) -> str:
    """The integration's secret from its environment variable or file (never the config
    text). A file must be owner-only, like an SSH key."""
    if integration.secret_env:
        value = os.environ.get(integration.secret_env, "")
        if not value:
            raise ConfigError(
                f"integrations.{integration.name}.secret_env: the environment variable "
                f"{integration.secret_env} is not set"
            )
        return value.strip()
    if integration.secret_file:
        path = Path(integration.secret_file).expanduser()
        if not path.is_absolute() and base is not None:
            path = base / path
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError as exc:
            raise ConfigError(
                f"integrations.{integration.name}.secret_file: {path}: {exc.strerror}"
            ) from None
        with os.fdopen(fd) as secret:
            mode = os.fstat(secret.fileno()).st_mode & 0o077
            if mode:
                raise ConfigError(
                    f"integrations.{integration.name}.secret_file: {path} is open to others; "
                    f"chmod 600 {path}"
                )
            value = secret.read(4096).strip()
        if not value:
            raise ConfigError(f"integrations.{integration.name}.secret_file: {path} is empty")
        return value
    raise ConfigError(
        f"integrations.{integration.name}: no secret (set secret_env or secret_file); "
        "opsdesk serve takes no unauthenticated alerts"
    )


def same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())


def authorized(integration: Integration, secret: str, header: str | None) -> bool:
    """Bearer token or basic auth (as Alertmanager's http_config sends them)."""
    if header is None:
        return False
    scheme, _, value = header.partition(" ")
    if integration.auth_kind == "bearer":
        return scheme.lower() == "bearer" and same(value.strip(), secret)
    if integration.auth_kind == "basic" and scheme.lower() == "basic":
        try:
            user, _, password = (
                base64.b64decode(value.strip(), validate=True).decode().partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            return False
        return same(user, integration.username) & same(password, secret)
    return False


@dataclass
class RateLimit:
    """A token bucket per integration: `per_minute` requests, refilled continuously."""

    per_minute: int
    clock: Callable[[], float]
    tokens: float = field(init=False)
    last: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = float(self.per_minute)
        self.last = self.clock()

    def take(self) -> None:
        now = self.clock()
        rate = self.per_minute / 60.0
        self.tokens = min(float(self.per_minute), self.tokens + (now - self.last) * rate)
        self.last = now
        if self.tokens < 1:
            wait = math.ceil((1 - self.tokens) / rate) if rate > 0 else 60
            raise Refusal(429, "too many requests", {"Retry-After": str(wait)})
        self.tokens -= 1


def parse_json(body: bytes) -> Any:
    try:
        payload = json.loads(body)
    except RecursionError:
        raise Refusal(400, f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refusal(400, f"not JSON: {str(exc)[:100]}") from None
    if not json_depth_ok(payload, MAX_DEPTH):
        raise Refusal(400, f"JSON nested deeper than {MAX_DEPTH} levels")
    return payload
