"""Backups taken while the engine has data, restored into an empty database: every table and row
comes back (SQLite's online backup API; pg_dump and pg_restore); a restore over data is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, text

from testengine.cli import main
from testengine.services.backups import BackupError, backup, restore
from testengine.services.runtime import open_runtime
from testengine.services.simulation import simulate_sittings
from testengine.settings import PROJECT_ROOT, Settings
from testengine.storage.database import make_engine

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def rows_of(url: str) -> dict[str, list[tuple]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            found = {}
            for name in sorted(inspect(connection).get_table_names()):
                columns = ", ".join(f'"{c["name"]}"' for c in inspect(connection).get_columns(name))
                found[name] = sorted(tuple(map(str, row)) for row in connection.execute(text(f'SELECT {columns} FROM "{name}"')))
            return found
    finally:
        engine.dispose()


def test_a_backup_restores_into_an_empty_database_with_every_row(database_url, another_database, shipped, tmp_path):
    settings = Settings(database_url, PROJECT_ROOT / "item_banks", PROJECT_ROOT / "blueprints", PROJECT_ROOT / "invigilation")
    runtime = open_runtime(settings, shipped, NOW)
    simulate_sittings(runtime.engine, runtime.assembler, 5, 12, 1, NOW)
    runtime.engine.dispose()
    target = tmp_path / "backup.bin"
    counts = backup(database_url, target)
    assert counts.rows["sittings"] == 12 and counts.rows["bank_items"] > 100
    with pytest.raises(BackupError, match="exists already"):
        backup(database_url, target)
    empty = another_database("restored", empty=True)
    restored = restore(target, empty)
    assert restored.rows == counts.rows
    assert rows_of(empty) == rows_of(database_url)
    with pytest.raises(BackupError, match="is not empty .* restore into an empty database"):
        restore(target, database_url)


def test_the_commands_back_up_and_restore_and_say_what_is_wrong(database_url, another_database, tmp_path):
    target = tmp_path / "cli-backup.bin"
    env = {"TESTENGINE_DATABASE_URL": database_url}
    assert CliRunner().invoke(main, ["bank", "stats", "--unit", "5"], env=env).exit_code == 0  # opens and seeds it
    made = CliRunner().invoke(main, ["backup", "--out", str(target)], env=env)
    assert made.exit_code == 0 and made.output.startswith(f"wrote {target}: ")
    restored = CliRunner().invoke(main, ["restore", str(target)], env={"TESTENGINE_DATABASE_URL": another_database("cli", empty=True)})
    assert restored.exit_code == 0 and "rows in" in restored.output
    missing = CliRunner().invoke(main, ["restore", str(tmp_path / "none.bin")], env=env)
    assert missing.exit_code == 1 and "no backup file" in missing.output
