"""The operators' commands: register a centre, open its first administrator's account (the
password asked for twice, never echoed), reset a password, list the accounts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from testengine.cli import main
from testengine.services import accounts
from testengine.services.runtime import open_engine
from testengine.settings import Settings


@pytest.fixture
def run(database_url):
    def invoke(*args: str, input: str | None = None):
        return CliRunner().invoke(main, list(args), input=input, env={"TESTENGINE_DATABASE_URL": database_url}, catch_exceptions=False)

    return invoke


def signs_in(database_url: str, username: str, password: str) -> bool:
    engine = open_engine(Settings.from_environ({"TESTENGINE_DATABASE_URL": database_url}))
    try:
        accounts.sign_in(engine, username, password, datetime.now(UTC), "cli-test")
        return True
    except accounts.SignInRefused:
        return False
    finally:
        engine.dispose()


def test_an_operator_registers_a_centre_and_its_first_administrator(run, database_url):
    made = run("centre", "add", "hx42", "--name", "Halifax  College")
    assert made.exit_code == 0 and "centre HX42 registered" in made.output and "--centre HX42" in made.output
    again = run("centre", "add", "HX42", "--name", "Halifax College")
    assert again.exit_code == 1 and "centre code 'HX42' is registered already" in again.output
    bad = run("centre", "add", "h", "--name", "")
    assert bad.exit_code == 1 and "use 2-16 capital letters or digits" in bad.output and "give the centre's name" in bad.output

    weak = run("staff", "add", "mgreen", "--name", "Mo Green", "--role", "centre_admin", "--centre", "HX42", input="letmein123\nletmein123\n")
    assert weak.exit_code == 1 and "password: the password is too easy to guess" in weak.output
    typo = run("staff", "add", "mgreen", "--name", "Mo Green", "--role", "centre_admin", "--centre", "HX42",
               input="velvet-canyon-pepper\nvelvet-canyon-peper\nvelvet-canyon-pepper\nvelvet-canyon-pepper\n")
    assert typo.exit_code == 0 and "do not match" in typo.output  # click asks again until the two agree
    assert "velvet-canyon-pepper" not in typo.output.replace("\n", " ").split("match")[-1]
    assert signs_in(database_url, "mgreen", "velvet-canyon-pepper")

    nowhere = run("staff", "add", "inv1", "--name", "In Vig", "--role", "invigilator", "--centre", "ZZ99", input="velvet-canyon-pepper\n" * 2)
    assert nowhere.exit_code == 1 and "no centre with code 'ZZ99'" in nowhere.output
    stray = run("staff", "add", "wr1", "--name", "Wri Ter", "--role", "item_writer", "--centre", "HX42", input="velvet-canyon-pepper\n" * 2)
    assert stray.exit_code == 1 and "Item writer accounts do not belong to a centre" in stray.output

    reset = run("staff", "password", "MGreen", input="harbour-thimble-quince\n" * 2)
    assert reset.exit_code == 0 and "signed out everywhere" in reset.output
    assert not signs_in(database_url, "mgreen", "velvet-canyon-pepper") and signs_in(database_url, "mgreen", "harbour-thimble-quince")
    assert run("staff", "password", "nobody", input="harbour-thimble-quince\n" * 2).exit_code == 1

    listed = json.loads(run("staff", "list", "--json").output)
    assert listed == [{"username": "mgreen", "display_name": "Mo Green", "role": "centre_admin", "centre": "HX42", "active": True}]
