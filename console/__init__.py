"""opsdesk console: CLI entry, config, identity, the Textual app, live feed and domain rules."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("opsdesk")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
