"""Benchmark: time on-demand assembly, 1,000 forms per unit, and print p50 and p95.

    python -m tests.benchmarks.assembly [--forms 1000] [--stored 200]

Two figures per unit:
- solve: choosing a form (eligibility in hand, randomised objective, HiGHS, the
  independent blueprint check, cut score, presentation order), as at a candidate's start;
- stored: the same through `assemble_form` on a fresh SQLite database, including the
  eligibility queries (items seen, exposure) and freezing the form with its item versions.
Target on the 2-core reference machine: p95 under 50 ms per form.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from testengine.services.assembly import Assembler, assemble_form
from testengine.services.catalogue import load_catalogue
from testengine.settings import PROJECT_ROOT
from testengine.storage.database import open_database


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forms", type=int, default=1000, help="forms solved per unit")
    parser.add_argument("--stored", type=int, default=200, help="forms assembled and stored per unit")
    args = parser.parse_args()

    catalogue = load_catalogue(PROJECT_ROOT / "item_banks", PROJECT_ROOT / "blueprints")
    assembler = Assembler(catalogue)
    now = datetime.now(UTC)
    print(f"{'unit':<6}{'pool':>6}{'forms':>7}{'solve p50':>11}{'p95':>8}{'max':>8}{'stored p50':>12}{'p95':>8}   (ms)")
    with tempfile.TemporaryDirectory() as folder:
        engine = open_database(f"sqlite:///{Path(folder) / 'bench.db'}")
        for number, package in catalogue.units.items():
            assembler.choose(package, 0)  # build the model once, as a running server has
            solve = []
            for seed in range(1, args.forms + 1):
                start = time.perf_counter()
                assembler.choose(package, seed)
                solve.append((time.perf_counter() - start) * 1000)
            stored = []
            for seed in range(1, args.stored + 1):
                start = time.perf_counter()
                assemble_form(engine, assembler, number, seed, now)
                stored.append((time.perf_counter() - start) * 1000)
            print(
                f"{number:<6}{len(assembler.model(package).pool):>6}{args.forms:>7}"
                f"{statistics.median(solve):>11.1f}{percentile(solve, 0.95):>8.1f}{max(solve):>8.1f}"
                f"{statistics.median(stored):>12.1f}{percentile(stored, 0.95):>8.1f}"
            )


if __name__ == "__main__":
    main()
