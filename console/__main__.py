"""`python -m opsdesk.console` runs the same CLI as the `opsdesk` script."""

from opsdesk.console.cli import main

main()
