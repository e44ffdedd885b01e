"""Benchmark: item statistics for a unit with 100,000 marked sittings, end to end.

    python -m tests.benchmarks.statistics [--sittings 100000] [--forms 2000] [--seed 1] [--runs 2]
                                          [--keep PATH] [--profile]

1. Fills a fresh SQLite database (migrated as the engine does) by bulk-inserting plain rows
   with executemany: candidates, forms, form_items, sittings, responses, and results whose
   item_scores and subtotals are what marking writes. Each sitting's form copies one of
   --forms forms assembled by the real assembler for Unit 2 (topped up to 30 items with more
   one-mark items, so that 100,000 sittings are 3 million item responses); 5% of the sittings
   share one of them (a fixed form, for alpha), the rest spread over the others, so item
   presence varies as on demand. Every sitting still has its own forms row (sittings.form_id
   is unique). Five items have a new version on half the forms. Answers follow the simulator's
   model (psychometrics.simulation; single-response answers vectorised, the other types drawn
   per pattern of right parts); 2% are omitted; ~0.5% of sittings are voided, ~1% practice,
   ~0.5% re-marked (the later result counts); marking dates span a year.
2. In a fresh process (so that its peak memory is the statistics' own), times `unit_statistics`
   end to end (reading, classical statistics, Rasch calibration), --runs times, and prints the
   seconds, the stage times and the peak RSS (ru_maxrss); then once more under tracemalloc for
   the peak of the traced allocations.
Target on the 2-core reference machine: under 10 s and 2 GiB. --sittings is capped at 200,000.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import pstats
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlmodel import Session

from testengine.domain.forms import Form, FormItem
from testengine.domain.items import Item, ItemType, ScoringRule
from testengine.domain.scoring import normalise, score
from testengine.psychometrics.simulation import _answer
from testengine.services.analysis import analysis_settings
from testengine.services.assembly import Assembler
from testengine.services.catalogue import Catalogue, UnitPackage, load_catalogue
from testengine.settings import PROJECT_ROOT
from testengine.storage.database import open_database
from testengine.storage.forms import pass_rule_to_json
from testengine.storage.item_versions import keep_versions

MAX_SITTINGS = 200_000
UNIT = 2
OMIT_RATE = 0.02
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ITEMS = 30  # items per sitting
SHARED = 0.05  # share of sittings on one fixed form
REVISED = 5  # items that get a version 2 on the later half of the forms


def stamp(moment: datetime) -> str:
    """A DateTime as SQLAlchemy stores it in SQLite."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def revised(item: Item) -> Item:
    return replace(item, version=item.version + 1, stem=item.stem + " (revised)")


def templates(package: UnitPackage, count: int) -> tuple[list[Form], dict[tuple[str, int], Item]]:
    """`count` assembled forms of 30 items; on the later half some items are swapped for a version 2."""
    assembler = Assembler(Catalogue({package.number: package}))
    live = [i for i in package.bank.items if i.status.value == "live" and i.type is ItemType.SINGLE]
    new_versions = {i.id: revised(i) for i in live[:REVISED]}
    items = {i.ref: i for i in package.bank.items} | {i.ref: i for i in new_versions.values()}
    rng = np.random.default_rng(count)
    forms = []
    for seed in range(count):
        form = assembler.choose(package, seed)
        # Unit 2 forms are 30 marks in about 26 items; more one-mark items make them 30 items,
        # the load the target is stated for.
        on_form = {f.item_id for f in form.items}
        spare = [i for i in live if i.id not in on_form]
        extra = [spare[k] for k in rng.choice(len(spare), size=max(ITEMS - len(form.items), 0), replace=False)]
        form = replace(form, items=form.items + tuple(
            FormItem(len(form.items) + k + 1, i.id, i.version, i.learning_outcome, i.criterion, i.amplification, i.type,
                     i.marks, i.item_set, tuple(rng.permutation(list(i.option_ids))))
            for k, i in enumerate(extra)
        ))
        if seed >= count // 2:
            form = replace(form, items=tuple(
                replace(f, version=new_versions[f.item_id].version) if f.item_id in new_versions else f for f in form.items
            ))
        forms.append(form)
    return forms, items


class Answers:
    """Responses and scores for one form position, drawn for many candidates at once."""

    def __init__(self, item: Item, rng: np.random.Generator) -> None:
        self.item = item
        self.rng = rng
        self.logit = math.log(item.facility / (1.0 - item.facility))
        self._patterns: dict[tuple[bool, ...], tuple[str, int]] = {}

    def pattern(self, right: tuple[bool, ...]) -> tuple[str, int]:
        found = self._patterns.get(right)
        if found is None:
            raw = _answer(self.item, list(right), self.rng)
            found = (json.dumps(raw), score(self.item, normalise(self.item, raw)))
            self._patterns[right] = found
        return found

    def draw(self, theta: np.ndarray) -> tuple[list[str | None], np.ndarray]:
        """JSON responses (None: omitted) and scores."""
        n = theta.size
        item, rng = self.item, self.rng
        p = 1.0 / (1.0 + np.exp(-(theta + self.logit)))
        omitted = rng.random(n) < OMIT_RATE
        if item.type is ItemType.SINGLE:
            right = rng.random(n) < p
            distractors = np.array([json.dumps(o) for o in item.option_ids if o != item.key[0]], dtype=object)
            responses = np.where(right, json.dumps(item.key[0]), distractors[rng.integers(0, distractors.size, n)])
            scores = np.where(right, item.marks, 0)
        else:
            parts = item.parts
            if item.scoring is ScoringRule.PARTIAL:
                bits = rng.random((n, parts)) < p[:, None]
            else:
                bits = np.ones((n, parts), dtype=bool)
                wrong = ~(rng.random(n) < p)
                bits[np.flatnonzero(wrong), rng.integers(0, parts, int(wrong.sum()))] = False
            found = [self.pattern(tuple(bool(b) for b in row)) for row in bits]
            responses = np.array([f[0] for f in found], dtype=object)
            scores = np.array([f[1] for f in found])
        scores = np.where(omitted, 0, scores)
        return [None if o else r for r, o in zip(responses.tolist(), omitted.tolist())], scores


def fill(path: Path, sittings: int, forms: int, seed: int) -> dict[str, Any]:
    """A fresh database at `path` with `sittings` marked sittings of Unit 2; returns counts."""
    if not 1 <= sittings <= MAX_SITTINGS:
        raise SystemExit(f"--sittings must be 1 to {MAX_SITTINGS}")
    catalogue = load_catalogue(PROJECT_ROOT / "item_banks", PROJECT_ROOT / "blueprints")
    package = catalogue.units[UNIT]
    engine = open_database(f"sqlite:///{path}")
    shapes, items = templates(package, forms)
    with Session(engine) as session, session.begin():
        scenarios = {s.id: s.scenario for s in package.bank.item_sets}
        keep_versions(session, list(items.values()), NOW, scenarios)
    engine.dispose()

    rng = np.random.default_rng(seed)
    theta = rng.normal(0.0, 1.0, sittings)
    # One form is shared by 5% of the sittings (a fixed form, for alpha); the rest spread evenly.
    template = np.where(rng.random(sittings) < SHARED, 0, rng.integers(1, max(len(shapes), 2), sittings)) % len(shapes)
    marked = [NOW - timedelta(days=float(d)) for d in rng.uniform(0, 365, sittings)]
    status = np.where(rng.random(sittings) < 0.005, "voided", "submitted")
    practice = rng.random(sittings) < 0.01
    remarked = rng.random(sittings) < 0.005

    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    counts = {"sittings": sittings, "responses": 0, "item_scores": 0, "results": 0}
    now = stamp(NOW)
    with db:
        db.executemany(
            "INSERT INTO candidates (id, candidate_number, name, centre_id, created_at) VALUES (?, ?, ?, NULL, ?)",
            ((s + 1, f"B{s + 1:07d}", f"Candidate {s + 1}", now) for s in range(sittings)),
        )
    # Everything of one sitting is built from its template form; sittings are inserted in id order.
    rule = json.dumps(pass_rule_to_json(package.blueprint.pass_rule))
    chunk = 20_000
    for start in range(0, sittings, chunk):
        ids = np.arange(start, min(start + chunk, sittings))
        rows = _chunk_rows(ids, shapes, items, template, theta, marked, status, practice, remarked, rule, rng)
        with db:
            db.executemany(
                "INSERT INTO forms (id, unit, seed, blueprint_digest, duration_minutes, total_marks, cut_score, pass_rule, "
                "expected_facility, expected_seconds, exposure_relaxed, candidate_id, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows["forms"],
            )
            db.executemany(
                "INSERT INTO form_items (form_id, position, item_id, version, learning_outcome, criterion, amplification, type, "
                "marks, item_set, option_order, premise_order) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows["form_items"],
            )
            db.executemany(
                "INSERT INTO sittings (id, candidate_id, booking_id, form_id, unit, status, deadline, device, practice, simulated, "
                "started_at, submitted_at, created_at, last_seen, unsent) VALUES (?, ?, NULL, ?, ?, ?, NULL, NULL, ?, 0, ?, ?, ?, NULL, 0)",
                rows["sittings"],
            )
            db.executemany(
                "INSERT INTO responses (sitting_id, position, response, sequence, flagged, answered_at) VALUES (?, ?, ?, ?, ?, ?)",
                rows["responses"],
            )
            db.executemany(
                "INSERT INTO results (sitting_id, supersedes_id, form_id, total, maximum, cut_score, outcome, rule, "
                "by_learning_outcome, by_criterion, item_scores, failed_hurdles, reason, marked_by, marked_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows["results"],
            )
        counts["responses"] += len(rows["responses"])
        counts["item_scores"] += len(rows["form_items"])
        counts["results"] += len(rows["results"])
    # The re-marks: a second result superseding the first, marked a day later.
    with db:
        db.execute(
            "INSERT INTO results (sitting_id, supersedes_id, form_id, total, maximum, cut_score, outcome, rule, by_learning_outcome, "
            "by_criterion, item_scores, failed_hurdles, reason, marked_by, marked_at) "
            "SELECT sitting_id, id, form_id, total, maximum, cut_score, outcome, rule, by_learning_outcome, by_criterion, item_scores, "
            "failed_hurdles, 'key corrected', 'analyst', datetime(marked_at, '+1 day') FROM results WHERE sitting_id IN "
            f"({','.join(str(int(s) + 1) for s in np.flatnonzero(remarked)) or 'NULL'})"
        )
        counts["results"] += db.execute("SELECT changes()").fetchone()[0]
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("ANALYZE")
    db.close()
    counts.update(voided=int((status == "voided").sum()), practice=int(practice.sum()), remarked=int(remarked.sum()))
    return counts


def _chunk_rows(
    ids: np.ndarray, shapes: list[Form], items: dict[tuple[str, int], Item], template: np.ndarray, theta: np.ndarray,
    marked: list[datetime], status: np.ndarray, practice: np.ndarray, remarked: np.ndarray, rule: str, rng: np.random.Generator,
) -> dict[str, list[tuple[Any, ...]]]:
    rows: dict[str, list[tuple[Any, ...]]] = {"forms": [], "form_items": [], "sittings": [], "responses": [], "results": []}
    for t in np.unique(template[ids]):
        group = ids[template[ids] == t]
        form = shapes[int(t)]
        draws = [Answers(items[f.ref], rng).draw(theta[group]) for f in form.items]
        fragments = [_fragments(f) for f in form.items]
        outcomes = sorted({f.learning_outcome for f in form.items})
        criteria = sorted({f.criterion for f in form.items}, key=lambda c: tuple(int(x) for x in c.split(".")))
        scores = np.stack([d[1] for d in draws], axis=1)  # sittings x positions
        answered = np.stack([np.array([r is not None for r in d[0]]) for d in draws], axis=1)
        lo_of = np.array([f.learning_outcome for f in form.items])
        ac_of = np.array([f.criterion for f in form.items])
        marks = np.array([f.marks for f in form.items])
        form_items_template = [
            (f.position, f.item_id, f.version, f.learning_outcome, f.criterion, f.amplification, f.type.value, f.marks, f.item_set,
             json.dumps(list(f.option_order)), json.dumps(list(f.premise_order)))
            for f in form.items
        ]
        for row, s in enumerate(group.tolist()):
            sitting_id = s + 1
            when = stamp(marked[s])
            started = stamp(marked[s] - timedelta(minutes=45))
            rows["forms"].append((sitting_id, UNIT, form.seed, form.blueprint_digest, form.duration_minutes, form.total_marks,
                                  form.cut_score, rule, form.expected_facility, form.expected_seconds, "[]", sitting_id, started))
            rows["form_items"].extend((sitting_id, *fi) for fi in form_items_template)
            rows["sittings"].append((sitting_id, sitting_id, sitting_id, UNIT, str(status[s]), bool(practice[s]), started, when, started))
            rows["responses"].extend(
                (sitting_id, pos + 1, d[0][row], 1, 0, when) for pos, d in enumerate(draws) if d[0][row] is not None
            )
            sc, an = scores[row], answered[row]
            total = int(sc.sum())
            by_lo = {str(lo): {"score": int(sc[lo_of == lo].sum()), "maximum": int(marks[lo_of == lo].sum())} for lo in outcomes}
            by_ac = {ac: {"score": int(sc[ac_of == ac].sum()), "maximum": int(marks[ac_of == ac].sum())} for ac in criteria}
            item_scores = "[" + ", ".join(fragments[j][int(sc[j])][bool(an[j])] for j in range(len(form.items))) + "]"
            rows["results"].append((
                sitting_id, None, sitting_id, total, int(marks.sum()), form.cut_score,
                "Pass" if total >= form.cut_score else "Not yet passed", "form-specific Angoff cut",
                json.dumps(by_lo), json.dumps(by_ac), item_scores, "[]", "marked on submission", "testengine", when,
            ))
    rows["results"].sort(key=lambda r: r[0])
    return rows


def _fragments(f: FormItem) -> list[dict[bool, str]]:
    """The JSON of the form position's item score for each score and answered, as marking writes it."""
    head = (f'{{"position": {f.position}, "item_id": "{f.item_id}", "version": {f.version}, "criterion": "{f.criterion}", '
            f'"learning_outcome": {f.learning_outcome}, "marks": {f.marks}, "score": ')
    return [{a: f'{head}{s}, "answered": {"true" if a else "false"}}}' for a in (False, True)} for s in range(f.marks + 1)]


def timed(path: Path, runs: int, profile: bool) -> None:
    """Time unit_statistics on the database at `path`: in this process, first call first."""
    from testengine.services.item_statistics import unit_statistics

    catalogue = load_catalogue(PROJECT_ROOT / "item_banks", PROJECT_ROOT / "blueprints")
    settings = analysis_settings(PROJECT_ROOT / "reports")
    engine = open_database(f"sqlite:///{path}")
    for run in range(1, runs + 1):
        start = time.perf_counter()
        stats = unit_statistics(engine, catalogue, settings, UNIT)
        seconds = time.perf_counter() - start
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        stages = ", ".join(f"{name} {value:.2f} s" for name, value in stats.timings.items() if name != "total")
        print(f"run {run}: {seconds:.2f} s ({stages}; rasch overlaps both), peak RSS of the process so far {rss:,.0f} MiB")
    print(f"  {stats.counted_sittings:,} sittings counted, {int(stats.items['n'].sum()):,} item responses, "
          f"{len(stats.items)} item versions, {len(stats.options)} option rows, {len(stats.forms)} fixed form(s) with alpha, "
          f"person separation reliability {stats.rasch_reliability:.3f} ({stats.rasch_candidates:,} candidates calibrated)")
    tracemalloc.start()
    start = time.perf_counter()
    unit_statistics(engine, catalogue, settings, UNIT)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"under tracemalloc (slower): {seconds:.2f} s, peak traced allocations of the call {peak / 2**20:,.0f} MiB")
    if profile:
        profiler = cProfile.Profile()
        profiler.runcall(unit_statistics, engine, catalogue, settings, UNIT)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sittings", type=int, default=100_000, help=f"marked sittings (at most {MAX_SITTINGS:,})")
    parser.add_argument("--forms", type=int, default=2000, help="distinct assembled forms the sittings' forms copy")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=2, help="timed calls, one after the other")
    parser.add_argument("--keep", type=Path, help="database file to fill and keep; timed as it is if it exists")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one more call (main thread only)")
    args = parser.parse_args()
    if not 1 <= args.sittings <= MAX_SITTINGS:
        parser.error(f"--sittings must be 1 to {MAX_SITTINGS:,}")
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "statistics.db"
        if path.exists():
            timed(path, args.runs, args.profile)
            return
        start = time.perf_counter()
        counts = fill(path, args.sittings, args.forms, args.seed)
        print(f"filled {path.stat().st_size / 2**20:,.0f} MiB in {time.perf_counter() - start:.0f} s: "
              + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        # A fresh process, so that its peak memory is the statistics' alone.
        command = [sys.executable, "-m", "tests.benchmarks.statistics", "--keep", str(path), "--runs", str(args.runs)]
        subprocess.run(command + (["--profile"] if args.profile else []), check=True)


if __name__ == "__main__":
    main()
