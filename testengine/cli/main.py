"""The `testengine` command: thin wrappers that parse, call one service and print."""

from __future__ import annotations

import json
import random
import secrets
import sys
from pathlib import Path
from typing import Any

import click

from testengine.cli.support import emit, fail, handles_errors, now
from testengine.domain.blueprints import Purpose
from testengine.domain.centres import Actor, Role
from testengine.services import analyst, backups, bank_exchange
from testengine.services.analysis import analyse_files, analysis_settings, write_analysis
from testengine.services.assembly import MAX_SEED, Assembler, assemble_form
from testengine.services.banks import bank_stats, export_bank, validate_banks
from testengine.services.blueprints import check_blueprint
from testengine.services.catalogue import Catalogue, load_catalogue
from testengine.services.demo import DEMO_LOGINS, create_ready_session, demo_session_today
from testengine.services.lint import lint_bank, lint_policy
from testengine.services.runtime import open_engine, open_runtime
from testengine.services.simulation import simulate_sittings
from testengine.services.walkthrough import walkthrough
from testengine.settings import Settings, signing_keys


def _catalogue(settings: Settings) -> Catalogue:
    return load_catalogue(settings.item_banks, settings.blueprints)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(context: click.Context) -> None:
    """Onscreen, timed, invigilated tests for the BTEC Customer Service knowledge units.

    Settings come from the environment: TESTENGINE_DATABASE_URL (default: SQLite in the
    user's data folder), TESTENGINE_ITEM_BANKS and TESTENGINE_BLUEPRINTS (default: the
    item_banks/ and blueprints/ folders of this checkout).
    """
    context.obj = Settings.from_environ()


@main.group()
def bank() -> None:
    """Check and describe the item banks."""


@bank.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@click.pass_obj
def bank_validate(settings: Settings, path: Path | None, as_json: bool) -> None:
    """Check every bank file (or the folder or file PATH); exit 1 if anything is wrong."""
    problems = validate_banks(path or settings.item_banks, settings.blueprints)
    if as_json:
        click.echo(json.dumps([p.as_dict() for p in problems], indent=2))
    elif problems:
        for problem in problems:
            click.echo(str(problem))
        click.echo(f"{len(problems)} problem(s)")
    else:
        click.echo(f"{path or settings.item_banks}: no problems")
    if problems:
        sys.exit(1)


@bank.command("stats")
@click.option("--unit", required=True, help="Unit number (e.g. 2) or reference (Y/506/2152).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@handles_errors
def bank_stats_command(settings: Settings, unit: str, as_json: bool) -> None:
    """Items and marks per criterion, amplification point, status and type."""
    stats = bank_stats(_catalogue(settings).unit(unit).bank)
    emit(stats, as_json, _stats_text)


def _stats_text(stats: dict[str, Any]) -> str:
    lines = [
        f"Unit {stats['unit']} ({stats['reference']}) {stats['title']}",
        f"{stats['items']} items ({stats['live_items']} live, {stats['live_marks']} live marks), "
        f"{stats['item_sets']} item sets",
        "status: " + ", ".join(f"{k} {v}" for k, v in stats["by_status"].items()),
        "live by type: " + ", ".join(f"{k} {v['items']} items / {v['marks']} marks" for k, v in stats["by_type"].items()),
        "",
        f"{'AC':<6}{'items':>6}{'live':>6}{'marks':>7}  amplification points (live items)",
    ]
    for c in stats["criteria"]:
        points = ", ".join(f"{p['id']} ({p['live_items']})" for p in c["amplification"])
        lines.append(f"{c['criterion']:<6}{c['items']:>6}{c['live_items']:>6}{c['live_marks']:>7}  {points}")
    return "\n".join(lines)


@bank.command("lint")
@click.option("--unit", help="Unit number or reference; every unit if omitted.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@handles_errors
def bank_lint(settings: Settings, unit: str | None, as_json: bool) -> None:
    """Item-quality checks (item_banks/lint.yaml); exit 1 if there are errors, list warnings."""
    catalogue = _catalogue(settings)
    policy = lint_policy(settings.item_banks)
    packages = [catalogue.unit(unit)] if unit else list(catalogue.units.values())
    reports = [lint_bank(p.bank, policy) for p in packages]
    if as_json:
        click.echo(json.dumps([r.as_json() for r in reports], indent=2))
    else:
        for report in reports:
            for finding in report.findings:
                click.echo(str(finding))
            click.echo(
                f"Unit {report.unit}: {len(report.errors)} error(s), {len(report.warnings)} warning(s), "
                f"mean Flesch-Kincaid grade {report.mean_reading_grade:.1f}"
            )
    if any(r.errors for r in reports):
        sys.exit(1)


@bank.command("export")
@click.option("--unit", required=True, help="Unit number (e.g. 2) or reference (Y/506/2152).")
@click.option("--format", "form", type=click.Choice(["json", "yaml", "qti"]), default="json", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead of standard output (required for qti).")
@click.pass_obj
@handles_errors
def bank_export(settings: Settings, unit: str, form: str, out: Path | None) -> None:
    """The unit's bank as the database holds it: json (every item with all its fields, the
    specification), yaml (every version with its status: restores with `bank import --exact`)
    or qti (an IMS QTI 2.1 content package, a .zip)."""
    runtime = open_runtime(settings)
    number = runtime.catalogue.unit(unit).number
    if form == "qti":
        if out is None:
            fail("error: --format qti writes a zip file: give --out FILE.zip")
            return
        out.write_bytes(bank_exchange.export_qti(runtime.engine, runtime.catalogue, number))
        click.echo(f"wrote {out}", err=True)
        return
    if form == "yaml":
        text = bank_exchange.export_yaml(runtime.engine, runtime.catalogue, number)
    else:
        text = json.dumps(export_bank(bank_exchange.current_bank(runtime.engine, runtime.catalogue, number)), indent=2, ensure_ascii=False)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {out}", err=True)


@bank.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--unit", required=True, help="Unit number (e.g. 2) or reference (Y/506/2152).")
@click.option("--exact", is_flag=True, help="Restore a `bank export --format yaml` file: keep ids, versions, statuses.")
@click.option("--by", default="command line", show_default=True, help="Who is importing, for the review trail.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@handles_errors
def bank_import(settings: Settings, path: Path, unit: str, exact: bool, by: str, as_json: bool) -> None:
    """Land the items of a QTI item file or content package (.xml, .zip), a YAML bank file or a
    spreadsheet (.xlsx, .csv) as drafts; say, item by item, what could not be mapped."""
    runtime = open_runtime(settings)
    number = runtime.catalogue.unit(unit).number
    report = bank_exchange.import_file(runtime.engine, runtime.catalogue, number, path, by, now(), exact)
    emit(report.as_json(), as_json, _import_text)
    if report.refused and not report.landed:
        sys.exit(1)


def _import_text(report: dict[str, Any]) -> str:
    lines = [f"{report['file']}: {len(report['imported'])} item(s) imported into unit {report['unit']}"
             + (f", {len(report['skipped'])} already there" if report["skipped"] else "")
             + (f", {len(report['not_mapped'])} not mapped" if report["not_mapped"] else "")]
    for landed in report["imported"]:
        lines.append(f"  {landed['source']} -> {landed['item_id']} v{landed['version']}")
        lines.extend(f"      {note}" for note in landed["notes"])
    for refused in report["not_mapped"]:
        lines.append(f"  NOT MAPPED {refused['source']}:")
        lines.extend(f"      {reason}" for reason in refused["reasons"])
    return "\n".join(lines)


@main.group()
def blueprint() -> None:
    """Check blueprints against their pools."""


@blueprint.command("check")
@click.option("--unit", required=True, help="Unit number (e.g. 2) or reference (Y/506/2152).")
@click.option("--seconds", default=60.0, show_default=True, help="Solver time limit for the disjoint-forms figure.")
@click.option("--practice", is_flag=True, help="Check the unit's practice blueprint instead of the live one.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@handles_errors
def blueprint_check(settings: Settings, unit: str, seconds: float, practice: bool, as_json: bool) -> None:
    """Pool depth per AC, uncovered amplification, disjoint forms, range of form difficulty."""
    catalogue = _catalogue(settings)
    package = catalogue.for_purpose(unit, Purpose.PRACTICE if practice else Purpose.LIVE)
    report = check_blueprint(Assembler(catalogue), package, seconds)
    emit(report, as_json, _check_text)
    if not report["feasible"]:
        sys.exit(1)


def _check_text(report: dict[str, Any]) -> str:
    lines = [
        f"Unit {report['unit']} ({report['reference']}): pool of {report['pool_items']} items, "
        f"{report['pool_marks']} marks ({', '.join(report['eligible_statuses'])})",
        f"{'AC':<6}{'items':>6}{'marks':>7}{'needs':>8}",
    ]
    for c in report["criteria"]:
        lines.append(f"{c['criterion']:<6}{c['eligible_items']:>6}{c['eligible_marks']:>7}{c['min_items']:>5}-{c['max_items']}")
    covered = report["amplification_points"] - len(report["uncovered_amplification"])
    lines.append(f"amplification points with an eligible item: {covered} of {report['amplification_points']}")
    for point in report["uncovered_amplification"]:
        lines.append(f"  no item: AC {point['criterion']} {point['amplification']} ({point['title']})")
    if not report["feasible"]:
        lines.append("NOT FEASIBLE:")
        lines.extend(f"  {p}" for p in report["problems"])
        return "\n".join(lines)
    proof = "proven optimal" if report["disjoint_forms_proven"] else f"upper bound {report['disjoint_forms_upper_bound']}"
    lines.append(f"disjoint forms the pool supports: {report['disjoint_forms']} ({proof})")
    low, high = report["facility_range"]
    lines.append(f"form facility range: {low:.3f}-{high:.3f}")
    lines.append(f"cut score range ({report['cut_method']}): {report['cut_score_range'][0]}-{report['cut_score_range'][1]}")
    return "\n".join(lines)


@main.command()
@click.option("--unit", required=True, help="Unit number (e.g. 2) or reference (Y/506/2152).")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), help="Same seed, same inputs: same form. Random if omitted.")
@click.option("--exclude-seen", "exclude_seen", metavar="CANDIDATE", help="Candidate number whose earlier items are left out.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@handles_errors
def assemble(settings: Settings, unit: str, seed: int | None, exclude_seen: str | None, as_json: bool) -> None:
    """Assemble, freeze and store one form of a unit's test."""
    catalogue = _catalogue(settings)
    engine = open_engine(settings)
    seed = secrets.randbelow(MAX_SEED + 1) if seed is None else seed
    stored = assemble_form(engine, Assembler(catalogue), unit, seed, now(), exclude_seen)
    form = stored.form
    data = {
        "form_id": stored.form_id,
        "unit": form.unit,
        "seed": form.seed,
        "duration_minutes": form.duration_minutes,
        "total_marks": form.total_marks,
        "cut_score": form.cut_score,
        "expected_facility": form.expected_facility,
        "expected_minutes": round(form.expected_seconds / 60, 1),
        "exposure_relaxed": list(form.exposure_relaxed),
        "items": [
            {
                "position": i.position,
                "item_id": i.item_id,
                "version": i.version,
                "learning_outcome": i.learning_outcome,
                "criterion": i.criterion,
                "amplification": i.amplification,
                "type": i.type.value,
                "marks": i.marks,
                "item_set": i.item_set,
            }
            for i in form.items
        ],
    }
    emit(data, as_json, _form_text)


def _form_text(data: dict[str, Any]) -> str:
    lines = [
        f"form {data['form_id']}: unit {data['unit']}, seed {data['seed']}, {data['total_marks']} marks in "
        f"{data['duration_minutes']} minutes, cut score {data['cut_score']}, expected facility "
        f"{data['expected_facility']:.3f}, expected time {data['expected_minutes']} min",
    ]
    if data["exposure_relaxed"]:
        lines.append("exposure cap relaxed for: " + ", ".join(data["exposure_relaxed"]))
    for i in data["items"]:
        lines.append(
            f"{i['position']:>3}. {i['item_id']} v{i['version']}  LO{i['learning_outcome']} AC {i['criterion']:<5} "
            f"{i['type']:<9} {i['marks']} mark(s)  {i['amplification']}"
        )
    return "\n".join(lines)


@main.command()
@click.option("--responses", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="CSV: one row per candidate, one column per item (optional first column candidate_id).")
@click.option("--key", type=click.Path(dir_okay=False, path_type=Path), help="CSV with columns item,key (option-label data).")
@click.option("--scored", is_flag=True, help="The cells are 0/1 marks, not option labels.")
@click.option("--omit", "omit_code", help="The code that means omitted (an empty cell always does).")
@click.option("--groups", type=click.Path(dir_okay=False, path_type=Path), help="CSV with columns candidate_id,group, for DIF.")
@click.option("--reference", help="The DIF reference group.")
@click.option("--focal", help="The DIF focal group.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder for the CSV files and report.html.")
@click.pass_obj
@handles_errors
def analyse(
    settings: Settings, responses: Path, key: Path | None, scored: bool, omit_code: str | None, groups: Path | None,
    reference: str | None, focal: str | None, out: Path,
) -> None:
    """Item statistics, Rasch calibration and DIF for response data from elsewhere.

    Writes items.csv, options.csv (with a key), test.csv, rasch.csv, dif.csv (with groups) and
    report.html to OUT, with the thresholds of reports/analysis.yaml."""
    if groups is not None and (reference is None or focal is None):
        fail("error: --groups needs --reference and --focal (the two group names to compare)")
    chosen = analysis_settings(settings.reports)
    result = analyse_files(responses, chosen, key, scored, omit_code, groups, reference, focal)
    for path in write_analysis(result, out, now()):
        click.echo(str(path))


@main.command()
@click.option("--unit", required=True, help="Unit number (e.g. 2) or reference (Y/506/2152).")
@click.pass_obj
@handles_errors
def calibrate(settings: Settings, unit: str) -> None:
    """Store a calibration run from the unit's marked sittings: the facility and Rasch difficulty
    of every item version with enough responses (reports/analysis.yaml). Assembly uses them from
    then on in the difficulty window and the form-specific cut."""
    catalogue = _catalogue(settings)
    number = catalogue.unit(unit).number
    engine = open_engine(settings)
    operator = Actor(0, "command line", Role.ANALYST, None)
    run, count = analyst.calibrate(engine, operator, catalogue, analysis_settings(settings.reports), number, now())
    click.echo(f"unit {number}: calibration run {run} stored with {count} item versions")


@main.command()
@click.option("--unit", required=True, help="Unit number (e.g. 2) or reference (Y/506/2152).")
@click.option("--candidates", type=click.IntRange(1, 100_000), required=True)
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@handles_errors
def simulate(settings: Settings, unit: str, candidates: int, seed: int, as_json: bool) -> None:
    """Simulated candidates sit, are marked and stored: demo data for later screens."""
    catalogue = _catalogue(settings)
    engine = open_engine(settings)
    summary = simulate_sittings(engine, Assembler(catalogue), unit, candidates, seed, now())
    data = {
        "unit": summary.unit,
        "candidates": summary.candidates,
        "mean_score": summary.mean_score,
        "pass_rate": summary.pass_rate,
        "outcomes": summary.outcomes,
        "exposure_relaxed_forms": summary.exposure_relaxed_forms,
        "first_sitting": summary.sittings[0],
        "last_sitting": summary.sittings[-1],
    }
    emit(
        data,
        as_json,
        lambda d: (
            f"unit {d['unit']}: {d['candidates']} simulated sittings (ids {d['first_sitting']}-{d['last_sitting']}), "
            f"mean score {d['mean_score']}, pass rate {d['pass_rate']:.1%}, "
            + ", ".join(f"{k}: {v}" for k, v in d["outcomes"].items())
        ),
    )


@main.command()
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=2014, show_default=True)
@click.pass_obj
@handles_errors
def demo(settings: Settings, seed: int) -> None:
    """Walk through the engine: validate the banks, assemble a form per unit, mark a sitting."""
    for line in walkthrough(settings, seed, now()):
        click.echo(line)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--demo", is_flag=True, help="Create the demo centre, its logins and today's demo session, and print them.")
@click.option("--quiet", is_flag=True, help="Log warnings only, no line per request.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes (more than one needs PostgreSQL).")
@click.pass_obj
@handles_errors
def serve(settings: Settings, host: str, port: int, demo: bool, quiet: bool, workers: int) -> None:
    """Run the web application: one process on SQLite (one writer), or several on PostgreSQL."""
    import uvicorn

    from testengine.web.app import create_app

    if workers > 1 and settings.database_url.startswith("sqlite"):
        fail(
            f"error: --workers {workers} needs PostgreSQL. SQLite has one writer, so the engine serves it from one "
            "process: run without --workers, or set TESTENGINE_DATABASE_URL to a postgresql+psycopg:// database."
        )
        return
    base = f"http://{host}:{port}"
    if demo:
        runtime = open_runtime(settings)
        ready = demo_session_today(runtime.engine, runtime.catalogue, runtime.policy, now(), random.SystemRandom())
        runtime.engine.dispose()
        click.echo(f"testengine is starting at {base}/")
        click.echo(f"  candidates: {base}/candidate")
        click.echo(f"  staff:      {base}/staff/sign-in")
        click.echo("Demo staff logins (username / password):")
        for username, role, _, password in DEMO_LOGINS:
            click.echo(f"  {username:<12} {password:<28} {role.label}")
        click.echo(f"Today's demo session: Unit {ready.unit}, {len(ready.candidates)} candidates. Keycodes:")
        for booked in ready.candidates:
            extra = f" ({booked.extra_time_percent}% extra time)" if booked.extra_time_percent else ""
            click.echo(f"  {booked.keycode}  {booked.candidate_number}  {booked.name}{extra}")
        click.echo(f"Sign in as invigilator and open the live console {base}/staff/sessions/{ready.session_id}/console to run the room.")
    else:
        click.echo(f"testengine is starting at {base}/")
    # Request threads hand the interpreter to each other every millisecond rather than every
    # 5 ms, so a short save never waits behind a long one for its turn (tail latency).
    sys.setswitchinterval(0.001)
    # Browsers in an exam room keep their connection between saves: close idle ones after 75 s
    # (as common proxies do), not uvicorn's 5 s, which races with the next save.
    options: dict[str, Any] = dict(host=host, port=port, log_level="warning" if quiet else "info", access_log=not quiet,
                                   timeout_keep_alive=75)
    if workers == 1:
        uvicorn.run(create_app(settings), **options)
        return
    # The parent migrates the database and seeds the banks once; then each worker builds its own
    # app from the environment. Nothing of a sitting lives in a process: every worker reads the
    # database, and the deadline sweep, which each worker runs, locks a sitting to submit it.
    # The signing key too, if none is set: the workers then all read the one it wrote.
    open_runtime(settings).engine.dispose()
    signing_keys(settings)
    # A worker whose loop is busy for a few seconds on a loaded machine is not dead: uvicorn's
    # default 5 s health check would kill it mid-request.
    uvicorn.run("testengine.web.app:app_from_environ", factory=True, workers=workers, timeout_worker_healthcheck=30, **options)


@main.command("backup")
@click.option("--out", "target", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The backup file to write (must not exist).")
@click.pass_obj
@handles_errors
def backup_command(settings: Settings, target: Path) -> None:
    """Back up the database while the engine runs: SQLite's online backup, or pg_dump."""
    try:
        counts = backups.backup(settings.database_url, target)
    except backups.BackupError as exc:
        fail(f"error: {exc}")
        return
    click.echo(f"wrote {target}: {counts.total} rows in {len(counts.rows)} tables")


@main.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
@handles_errors
def restore_command(settings: Settings, source: Path) -> None:
    """Restore a backup into the database of TESTENGINE_DATABASE_URL, which must be empty."""
    try:
        counts = backups.restore(source, settings.database_url)
    except backups.BackupError as exc:
        fail(f"error: {exc}")
        return
    click.echo(f"restored {source}: {counts.total} rows in {len(counts.rows)} tables")


@main.group()
def session() -> None:
    """Exam sessions."""


@session.command("create")
@click.option("--unit", required=True, help="Unit number (e.g. 2) or reference (Y/506/2152).")
@click.option("--candidates", type=click.IntRange(1, 500), required=True, help="How many new candidates to book.")
@click.option("--extra-time", "extra_time", type=click.IntRange(0, 100), multiple=True, metavar="PCT",
              help="Extra time for the first candidates, one figure each (repeatable).")
@click.option("--practice", is_flag=True, help="A practice session (non-live items, feedback after).")
@click.option("--centre", default="DEMO01", show_default=True, help="Centre code.")
@click.option("--base-url", default="http://127.0.0.1:8000", show_default=True, help="Where the server is, for console_url.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@handles_errors
def session_create(
    settings: Settings, unit: str, candidates: int, extra_time: tuple[int, ...], practice: bool, centre: str, base_url: str, as_json: bool
) -> None:
    """Create a session today with booked candidates, and print its logins and keycodes."""
    runtime = open_runtime(settings)
    ready = create_ready_session(
        runtime.engine, runtime.catalogue, runtime.policy, centre, unit, candidates, list(extra_time), practice, now(), random.SystemRandom()
    )
    data = {
        "session_id": ready.session_id,
        "unit": ready.unit,
        "practice": ready.practice,
        "console_url": f"{base_url.rstrip('/')}/staff/sessions/{ready.session_id}/console",
        "candidate_url": f"{base_url.rstrip('/')}/candidate",
        "username": ready.invigilator,
        "password": ready.password,
        "candidates": [
            {"candidate_number": c.candidate_number, "name": c.name, "keycode": c.keycode, "extra_time_percent": c.extra_time_percent}
            for c in ready.candidates
        ],
    }
    emit(
        data,
        as_json,
        lambda d: "\n".join(
            [f"session {d['session_id']} (unit {d['unit']}): {d['console_url']}", f"invigilator: {d['username']} / {d['password']}"]
            + [f"  {c['keycode']}  {c['candidate_number']}  {c['name']}" for c in d["candidates"]]
        ),
    )


@main.group()
def db() -> None:
    """The database."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(settings: Settings) -> None:
    """Create or migrate the database at TESTENGINE_DATABASE_URL to the newest schema."""
    open_engine(settings)
    click.echo(f"database at {settings.database_url} is up to date")
