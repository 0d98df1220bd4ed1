"""The `opsdesk` command line: argparse faces over the operations in `console.ops`, with
one-line errors and exit codes (`main.py`), one module per command group."""

from opsdesk.console.cli.main import build_parser, main, run

__all__ = ["build_parser", "main", "run"]
