"""opsdesk console: CLI entry, config, identity, the Textual app, live feed and domain rules."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """`__version__`, looked up only when asked for: reading package metadata costs
    about 14 ms, which every command would otherwise pay."""
    if name != "__version__":
        raise AttributeError(name)
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("opsdesk")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"
