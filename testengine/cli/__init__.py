"""The `testengine` command line: `main` and its command groups."""

from testengine.cli.accounts import centre, staff
from testengine.cli.main import main

main.add_command(centre)
main.add_command(staff)

__all__ = ["main"]
