"""Where a store lives: a SQLite file (a path, the embedded default) or a PostgreSQL
database (a `postgresql://` URL). `--store` and `[store] path` / `[store] url` both end here,
so the rest of opsdesk passes one value around and never parses a URL itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from opsdesk.store.value import FrozenValue

PG_SCHEMES = ("postgresql://", "postgres://")


@dataclass(frozen=True, eq=False, repr=False)
class PgLocation(FrozenValue):
    """A PostgreSQL database named by a libpq URL. The URL may hold a password: `label`
    and `display` never show it."""

    url: str

    @property
    def database(self) -> str:
        parts = urlsplit(self.url)
        name = parts.path.lstrip("/")
        return name or parse_qs(parts.query).get("dbname", [""])[0] or "postgres"

    @property
    def display(self) -> str:
        """The URL without its password, for messages and the console's header."""
        parts = urlsplit(self.url)
        if parts.password is None:
            return self.url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return parts._replace(netloc=netloc).geturl()

    @property
    def name(self) -> str:
        """What the header shows, as it shows a SQLite file's name."""
        return f"pg:{self.database}"

    def __str__(self) -> str:
        return self.display


StoreLocation = Path | PgLocation


def is_pg_url(text: str) -> bool:
    return text.strip().lower().startswith(PG_SCHEMES)


def parse_location(text: str | StoreLocation) -> StoreLocation:
    """A `postgresql://` (or `postgres://`) URL names a PostgreSQL database; anything else
    is a SQLite file path (`~` expanded)."""
    if isinstance(text, Path | PgLocation):
        return text
    if is_pg_url(text):
        return PgLocation(text.strip())
    return Path(text).expanduser()


def location_label(location: StoreLocation) -> str:
    """How messages name a store: the file's path, or the URL without its password."""
    return location.display if isinstance(location, PgLocation) else str(location)
