"""`testengine centre` and `testengine staff`: the awarding body's operators register centres
and open staff accounts. Passwords are asked for (twice, not echoed), never taken as options,
so that they stay out of shell history and process lists."""

from __future__ import annotations

from dataclasses import asdict

import click

from testengine.cli.support import emit, handles_errors, now
from testengine.domain.centres import Role
from testengine.services import operators
from testengine.services.runtime import open_runtime
from testengine.settings import Settings


@click.group()
def centre() -> None:
    """Centres approved to run the tests."""


@centre.command("add")
@click.argument("code")
@click.option("--name", required=True, help="The centre's name.")
@click.pass_obj
@handles_errors
def centre_add(settings: Settings, code: str, name: str) -> None:
    """Register a centre by the code the awarding body issued."""
    operators.add_centre(open_runtime(settings).engine, code, name, now())
    click.echo(f"centre {code.strip().upper()} registered: add its first administrator with "
               f"`testengine staff add USERNAME --role centre_admin --centre {code.strip().upper()} --name NAME`")


@click.group()
def staff() -> None:
    """Staff accounts: centre administrators and invigilators, item writers and analysts."""


@staff.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="The person's name.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--centre", "centre_code", help="The centre's code (administrators and invigilators only).")
@click.pass_obj
@handles_errors
def staff_add(settings: Settings, username: str, display_name: str, role: str, centre_code: str | None) -> None:
    """Open an account (the first password is asked for twice); the person can change it once signed in."""
    password = _ask_password("First password")
    added = operators.add_account(open_runtime(settings).engine, username, display_name, role, password, centre_code, now())
    click.echo(f"account {added.username} ({added.role.label}) opened")


@staff.command("password")
@click.argument("username")
@click.pass_obj
@handles_errors
def staff_password(settings: Settings, username: str) -> None:
    """Set a new password for an account (asked for twice) and sign it out everywhere."""
    password = _ask_password("New password")
    operators.reset_password(open_runtime(settings).engine, username, password, now())
    click.echo(f"new password set for {username.strip().lower()}; it is signed out everywhere")


@staff.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@handles_errors
def staff_list(settings: Settings, as_json: bool) -> None:
    """Every account, its role, centre and whether it is open."""
    lines = operators.list_accounts(open_runtime(settings).engine)
    emit([asdict(line) for line in lines], as_json, lambda rows: "\n".join(
        f"{r['username']:<24} {r['role']:<14} {r['centre'] or '-':<8} {'open' if r['active'] else 'closed':<7} {r['display_name']}"
        for r in rows) or "no accounts")


def _ask_password(prompt: str) -> str:
    """Typed twice, not echoed; asked again until the two agree."""
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=True))
