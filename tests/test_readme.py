"""The README's two commands, and every command and setting, stay true."""

from __future__ import annotations

import re
import subprocess
import sys

import click

from testengine.cli import main
from testengine.settings import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text()


def indented_commands() -> list[str]:
    return [line.strip() for line in README.splitlines() if line.startswith("    ") and line.strip()]


def test_the_readme_opens_with_the_run_command_and_the_test_command():
    run, test = indented_commands()[:2]
    assert run.endswith("testengine serve --demo")
    assert "pytest" in test


def test_ci_runs_the_test_command_from_the_readme():
    test = indented_commands()[1]
    ci = (PROJECT_ROOT / ".ci" / "run").read_text().splitlines()
    assert test in ci


def walk(group: click.Group, prefix: str = "testengine"):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from walk(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}", command


def test_every_command_and_option_is_documented():
    for path, command in walk(main):
        assert f"`{path}" in README, f"{path} is not in the README"
        row = next(line for line in README.splitlines() if f"`{path}" in line)
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "help":
                assert any(opt in row for opt in param.opts), f"{path} {param.opts} is not in the README"


def test_every_setting_is_documented():
    source = (PROJECT_ROOT / "testengine" / "settings.py").read_text()
    for variable in set(re.findall(r"TESTENGINE_[A-Z_]+", source)):
        assert f"`{variable}`" in README


def test_the_typed_layers_pass_mypy_strict():
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
