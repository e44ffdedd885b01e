"""The command line on the shipped banks, with a database in a temporary folder."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from sqlmodel import Session

from testengine.cli import main
from testengine.storage.database import open_database
from testengine.storage.forms import items_seen_by
from testengine.storage.sittings import find_candidate
from tests.conftest import SHIPPED_BANKS


@pytest.fixture
def run(database_url):
    env = {"TESTENGINE_DATABASE_URL": database_url}

    def invoke(*args: str, **extra_env: str):
        return CliRunner().invoke(main, list(args), env={**env, **extra_env}, catch_exceptions=False)

    return invoke


def test_bank_validate_passes_on_the_shipped_banks(run):
    result = run("bank", "validate")
    assert result.exit_code == 0, result.output
    assert "no problems" in result.output


def test_bank_validate_lists_every_problem_and_exits_1(run, tmp_path):
    banks = tmp_path / "banks"
    shutil.copytree(SHIPPED_BANKS, banks)
    item_file = banks / "unit-5" / "lo1.yaml"
    text = item_file.read_text()
    item_file.write_text(text.replace("criterion: \"1.1\"", "criterion: \"1.9\"", 1))
    result = run("bank", "validate", str(banks), "--json")
    assert result.exit_code == 1
    problems = json.loads(result.output)
    assert len(problems) == 1
    assert problems[0]["file"].endswith("unit-5/lo1.yaml") and problems[0]["line"] > 1
    assert "AC '1.9' is not an assessment criterion of Unit 5" in problems[0]["reason"]
    single = run("bank", "validate", str(item_file))
    assert single.exit_code == 1 and "1 problem(s)" in single.output


def test_bank_stats_counts_items_per_criterion(run):
    result = run("bank", "stats", "--unit", "J/506/2910", "--json")
    assert result.exit_code == 0
    stats = json.loads(result.output)
    assert stats["unit"] == 5
    assert [c["criterion"] for c in stats["criteria"]][:2] == ["1.1", "1.2"]
    assert sum(c["live_items"] for c in stats["criteria"]) == stats["live_items"]
    assert "amplification" in stats["criteria"][0]


def test_assemble_prints_the_stored_form_as_json_with_the_documented_fields(run):
    result = run("assemble", "--unit", "4", "--seed", "11", "--json")
    assert result.exit_code == 0, result.output
    form = json.loads(result.output)
    for key in ("unit", "seed", "duration_minutes", "total_marks", "cut_score", "expected_facility", "items"):
        assert key in form
    assert (form["unit"], form["seed"], form["duration_minutes"], form["total_marks"]) == (4, 11, 45, 30)
    assert sum(i["marks"] for i in form["items"]) == 30
    for item in form["items"]:
        assert {"item_id", "version", "learning_outcome", "criterion", "amplification", "type", "marks"} <= item.keys()
        assert "stem" not in item and "key" not in item
    again = json.loads(run("assemble", "--unit", "4", "--seed", "11", "--json").output)
    assert again["items"] == form["items"] and again["form_id"] == form["form_id"] + 1


def test_assemble_refuses_an_unknown_unit_or_candidate_with_a_clear_message(run):
    unknown = run("assemble", "--unit", "7")
    assert unknown.exit_code == 1
    assert "no unit '7': the units are 2 (Y/506/2152), 4 (D/506/1942), 5 (J/506/2910)" in unknown.output
    nobody = run("assemble", "--unit", "5", "--exclude-seen", "Z999")
    assert nobody.exit_code == 1 and "no candidate with candidate number 'Z999'" in nobody.output


def test_simulate_then_resit_assembly_excludes_what_the_candidate_saw(run, database_url):
    result = run("simulate", "--unit", "5", "--candidates", "3", "--seed", "8", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["candidates"] == 3
    assert sum(summary["outcomes"].values()) == 3
    engine = open_database(database_url)
    with Session(engine) as session:
        seen = items_seen_by(session, find_candidate(session, "SIM-5-8-0001").id)
    assert len(seen) >= 14
    resit = json.loads(run("assemble", "--unit", "5", "--exclude-seen", "SIM-5-8-0001", "--json").output)
    assert resit["total_marks"] == 25
    assert not {i["item_id"] for i in resit["items"]} & seen


def test_blueprint_check_reports_pool_depth_coverage_and_disjoint_forms(run):
    result = run("blueprint", "check", "--unit", "5", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["feasible"] is True
    assert report["disjoint_forms"] >= 1
    assert len(report["criteria"]) == 14
    low, high = report["facility_range"]
    assert 0.58 - 1e-9 <= low <= high <= 0.72 + 1e-9
    assert report["uncovered_amplification"] == []


def test_demo_walks_through_validation_assembly_and_marking(run):
    result = run("demo")
    assert result.exit_code == 0, result.output
    assert "Item banks and blueprints valid" in result.output
    for unit in (2, 4, 5):
        assert f"Unit {unit}:" in result.output
    assert result.output.count("-> Pass") + result.output.count("-> Not yet passed") == 3


def test_bank_lint_reports_findings_and_fails_on_errors(run, tmp_path):
    banks = tmp_path / "banks"
    shutil.copytree(SHIPPED_BANKS, banks)
    item_file = banks / "unit-5" / "lo1.yaml"
    text = item_file.read_text()
    first_stem = text.index("stem:")
    end = text.index("\n", first_stem)
    item_file.write_text(text[:first_stem] + "stem: Which of these is not a thing" + text[end:])
    result = run("bank", "lint", "--unit", "5", "--json", TESTENGINE_ITEM_BANKS=str(banks))
    assert result.exit_code == 1
    (report,) = json.loads(result.output)
    rules = {(f["rule"], f["severity"]) for f in report["findings"] if f["file"] and f["file"].endswith("lo1.yaml")}
    assert {("complete-stem", "error"), ("negative-stem", "error")} <= rules
    assert report["errors"] >= 2 and report["mean_reading_grade"] > 0


def test_bank_export_writes_every_item_with_all_its_fields(run, tmp_path):
    out = tmp_path / "unit-4.json"
    result = run("bank", "export", "--unit", "4", "--format", "json", "--out", str(out))
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["specification"]["reference"] == "D/506/1942"
    stats = json.loads(run("bank", "stats", "--unit", "4", "--json").output)
    assert len(data["items"]) == stats["items"]
    fields = {"id", "version", "unit", "learning_outcome", "criterion", "amplification", "type", "stem", "options",
              "key", "marks", "scoring", "expected_seconds", "facility", "angoff", "enemies", "item_set",
              "status", "rationale", "author", "fixed_option_order", "cognitive_level"}
    assert all(fields <= item.keys() for item in data["items"])
    set_members = {i for s in data["item_sets"] for i in s["items"]}
    assert set_members == {i["id"] for i in data["items"] if i["item_set"]}


def test_session_create_prints_the_console_url_logins_and_keycodes(run):
    result = run("session", "create", "--unit", "5", "--candidates", "3", "--extra-time", "25", "--extra-time", "40", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["console_url"].endswith(f"/staff/sessions/{data['session_id']}/console")
    assert data["username"].startswith("invigilator-") and len(data["password"]) >= 12
    assert [c["extra_time_percent"] for c in data["candidates"]] == [25, 40, 0]
    assert len({c["keycode"] for c in data["candidates"]}) == 3
    assert all(set(c) >= {"candidate_number", "name", "keycode"} for c in data["candidates"])
    refused = run("session", "create", "--unit", "5", "--candidates", "1", "--centre", "NOPE")
    assert refused.exit_code == 1 and "no centre 'NOPE'" in refused.output


def test_the_demo_session_is_made_once_a_day_and_reused(database_url):
    import random
    from datetime import UTC, datetime

    from testengine.services.demo import demo_session_today
    from testengine.services.runtime import open_runtime
    from testengine.settings import PROJECT_ROOT, Settings

    settings = Settings(database_url, PROJECT_ROOT / "item_banks", PROJECT_ROOT / "blueprints", PROJECT_ROOT / "invigilation")
    runtime = open_runtime(settings)
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    first = demo_session_today(runtime.engine, runtime.catalogue, runtime.policy, now, random.Random(1))
    again = demo_session_today(runtime.engine, runtime.catalogue, runtime.policy, now, random.Random(2))
    assert first.session_id == again.session_id and [c.keycode for c in first.candidates] == [c.keycode for c in again.candidates]
    assert len(first.candidates) == 6 and first.candidates[0].extra_time_percent == again.candidates[0].extra_time_percent == 25
    runtime.engine.dispose()


def test_calibrate_stores_a_run_that_assembly_then_uses(run, tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "analysis.yaml").write_text("calibration:\n  min_responses: 20\n")
    assert run("simulate", "--unit", "5", "--candidates", "120", "--seed", "4").exit_code == 0
    result = run("calibrate", "--unit", "5", TESTENGINE_REPORTS=str(reports))
    assert result.exit_code == 0, result.output
    stored = int(result.output.split(" with ")[1].split()[0])
    assert result.output.startswith("unit 5: calibration run 1 stored with") and stored > 0
    (reports / "analysis.yaml").write_text("calibration:\n  min_responses: 0\n")
    bad = run("calibrate", "--unit", "5", TESTENGINE_REPORTS=str(reports))
    assert bad.exit_code == 1 and "calibration.min_responses" in bad.output


def test_bank_export_and_import_move_items_between_engines_in_yaml_and_qti(run, tmp_path, another_database):
    exported = tmp_path / "unit-5.yaml"
    assert run("bank", "export", "--unit", "5", "--format", "yaml", "--out", str(exported)).exit_code == 0
    other = {"TESTENGINE_DATABASE_URL": another_database("other")}
    restored = run("bank", "import", str(exported), "--unit", "5", "--exact", "--json", **other)
    assert restored.exit_code == 0 and json.loads(restored.output)["imported"] == []  # the same shipped bank: all there
    package = tmp_path / "unit-5.zip"
    refused = run("bank", "export", "--unit", "5", "--format", "qti")
    assert refused.exit_code == 1 and "give --out FILE.zip" in refused.output
    assert run("bank", "export", "--unit", "5", "--format", "qti", "--out", str(package)).exit_code == 0
    landed = run("bank", "import", str(package), "--unit", "5", "--by", "cli-test", **other)
    assert landed.exit_code == 0
    first = landed.output.splitlines()[0]
    assert first.startswith(f"{package}: ") and "item(s) imported into unit 5" in first
    assert "-> U5-" in landed.output
    missing = run("bank", "import", str(tmp_path / "nothing.zip"), "--unit", "5")
    assert missing.exit_code == 1 and "no such file" in missing.output
