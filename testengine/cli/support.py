"""What every command shares: the clock, and turning bad input into a message and exit 1."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar

import click

from testengine.domain.problems import DataError
from testengine.services.assembly import AssemblyError
from testengine.services.catalogue import UnknownUnit
from testengine.services.errors import InvalidInput

F = TypeVar("F", bound=Callable[..., Any])


def now() -> datetime:
    return datetime.now(UTC)


def fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def handles_errors(command: F) -> F:
    """Bad data or an impossible request ends with the reasons and exit status 1, no traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DataError as exc:
            click.echo(f"{len(exc.problems)} problem(s) in the data files:", err=True)
            for problem in exc.problems:
                click.echo(f"  {problem}", err=True)
            sys.exit(1)
        except AssemblyError as exc:
            fail("cannot assemble a form:\n" + "\n".join(f"  {r}" for r in exc.reasons))
        except InvalidInput as exc:
            fail("error:\n" + "\n".join(f"  {m}" for m in exc.messages))
        except (UnknownUnit, LookupError, ValueError) as exc:
            fail(f"error: {exc.args[0] if exc.args else exc}")

    return wrapper  # type: ignore[return-value]


def emit(data: Any, as_json: bool, text: Callable[[Any], str]) -> None:
    click.echo(json.dumps(data, indent=2, default=str) if as_json else text(data))


