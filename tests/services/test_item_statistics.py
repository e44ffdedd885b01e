"""Item statistics of a unit from its stored sittings: what counts, and whether the numbers are
the ones the database holds; and whether Rasch calibration finds the difficulties that the
simulator used."""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from testengine.domain.items import ItemType
from testengine.domain.sittings import Event, Kind
from testengine.psychometrics import classical
from testengine.services.analysis import AnalysisSettings, analysis_settings
from testengine.services.assembly import Assembler
from testengine.services.catalogue import Catalogue, UnitPackage
from testengine.services.item_statistics import ITEM_TABLE_COLUMNS, OPTION_TABLE_COLUMNS, item_history, unit_statistics
from testengine.services.marking import remark_sitting
from testengine.services.simulation import simulate_sittings
from testengine.settings import PROJECT_ROOT
from testengine.storage.database import open_database
from testengine.storage.response_data import column_key, read_response_data
from testengine.storage.results import result_history
from testengine.storage.sitting_events import append_event
from testengine.storage.sittings import load_responses
from testengine.storage.tables import ResultRecord, SittingRecord
from tests.factories import make_bank, make_blueprint, make_item, make_unit

OCTOBER = datetime(2026, 10, 14, 10, 0, tzinfo=UTC)
NOVEMBER = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def settings() -> AnalysisSettings:
    return analysis_settings(PROJECT_ROOT / "reports")


@dataclass(frozen=True)
class Simulated:
    engine: Engine
    catalogue: Catalogue
    voided: int
    practice: int
    real: int  # the one sitting not marked simulated
    remarked: int
    remarked_item: str  # the item whose key the re-mark corrected


@pytest.fixture(scope="module")
def unit2(module_database, shipped) -> Simulated:
    """120 simulated sittings of Unit 2 (`testengine simulate`'s service), half marked in October
    and half in November; then one voided, one made practice, one made real (not simulated), and
    one re-marked with a corrected key that turns one of its wrong answers right."""
    engine = open_database(module_database)
    assembler = Assembler(shipped)
    ids = simulate_sittings(engine, assembler, "2", 60, 7, OCTOBER).sittings
    ids += simulate_sittings(engine, assembler, "2", 60, 8, NOVEMBER).sittings
    voided, practice, real, remarked = ids[0], ids[1], ids[2], ids[60]
    with Session(engine) as session, session.begin():
        record = session.get(SittingRecord, voided)
        append_event(session, record, Event(Kind.VOIDED, NOVEMBER, "inv1", "notes found on the desk"))
        for sitting_id, changes in ((practice, {"practice": True}), (real, {"simulated": False})):
            record = session.get(SittingRecord, sitting_id)
            for name, value in changes.items():
                setattr(record, name, value)
            session.add(record)
    with Session(engine) as session:
        first = result_history(session, remarked)[-1]
        answers = load_responses(session, remarked)
    wrong = next(
        s for s in first.item_scores
        if s["answered"] and s["score"] == 0 and shipped.units[2].bank.item(s["item_id"]).type is ItemType.SINGLE
    )
    remark_sitting(engine, remarked, {wrong["item_id"]: answers[wrong["position"]]}, "key corrected", "analyst",
                   NOVEMBER + timedelta(days=2))
    yield Simulated(engine, shipped, voided, practice, real, remarked, wrong["item_id"])
    engine.dispose()


def counted_results(engine: Engine, practice: bool = False, simulated: bool = True) -> dict[int, ResultRecord]:
    """The latest result of every sitting that counts, found the slow, obvious way."""
    with Session(engine) as session:
        found = {}
        for sitting in session.exec(select(SittingRecord).where(SittingRecord.unit == 2)).all():
            if sitting.status in ("voided", "absent", "abandoned") or (sitting.practice and not practice):
                continue
            if sitting.simulated and not simulated:
                continue
            history = result_history(session, sitting.id)
            if history:
                found[sitting.id] = history[-1]
        return found


def direct_counts(results: dict[int, ResultRecord]) -> dict[str, dict[str, float]]:
    """Per item version: candidates presented it, mean mark / max mark, share left blank."""
    cells: dict[str, list[dict]] = defaultdict(list)
    for result in results.values():
        for cell in result.item_scores:
            cells[column_key(cell["item_id"], cell["version"])].append(cell)
    return {
        key: {
            "n": len(found),
            "p": sum(c["score"] for c in found) / (len(found) * found[0]["marks"]),
            "omit_rate": sum(not c["answered"] for c in found) / len(found),
        }
        for key, found in cells.items()
    }


def test_the_table_has_one_row_per_item_version_presented_with_n_p_and_omit_rate_as_counted_in_the_database(unit2, settings):
    stats = unit_statistics(unit2.engine, unit2.catalogue, settings, 2)
    expected = direct_counts(counted_results(unit2.engine))
    table = stats.items.set_index("item")
    assert list(stats.items.columns) == list(ITEM_TABLE_COLUMNS)
    assert sorted(table.index) == sorted(expected)
    assert table.index.is_unique
    for key, want in expected.items():
        assert table.at[key, "n"] == want["n"]
        assert table.at[key, "p"] == pytest.approx(want["p"], abs=1e-12)
        assert table.at[key, "omit_rate"] == pytest.approx(want["omit_rate"], abs=1e-12)
    assert stats.counted_sittings == 118  # 120 less the voided and the practice sitting
    assert (table["status"] == "live").all()
    assert table["r_item_rest"].notna().sum() > 100


def test_voided_and_practice_sittings_are_left_out_and_practice_comes_in_when_asked_for(unit2, settings):
    data = read_response_data(unit2.engine, 2)
    assert unit2.voided not in data.sittings.index
    assert unit2.practice not in data.sittings.index
    assert len(data.sittings) == 118
    with_practice = read_response_data(unit2.engine, 2, include_practice=True)
    assert unit2.practice in with_practice.sittings.index
    assert unit2.voided not in with_practice.sittings.index
    assert unit_statistics(unit2.engine, unit2.catalogue, settings, 2, include_practice=True).counted_sittings == 119
    assert set(direct_counts(counted_results(unit2.engine, practice=True))) == set(with_practice.scores.columns)


def test_simulated_sittings_can_be_left_out(unit2, settings):
    assert list(read_response_data(unit2.engine, 2, include_simulated=False).sittings.index) == [unit2.real]
    stats = unit_statistics(unit2.engine, unit2.catalogue, settings, 2, include_simulated=False)
    assert stats.counted_sittings == 1
    assert (stats.items["n"] == 1).all()


def test_exposure_is_the_share_of_counted_sittings_presented_each_item_version(unit2, settings):
    results = counted_results(unit2.engine)
    presented = Counter(column_key(c["item_id"], c["version"]) for r in results.values() for c in r.item_scores)
    table = unit_statistics(unit2.engine, unit2.catalogue, settings, 2).items.set_index("item")
    for key, count in presented.items():
        assert table.at[key, "exposure"] == pytest.approx(count / len(results), abs=1e-12)
    # 30 marks a form from a pool of 156 live items: about a fifth of the sittings see each.
    assert 0.1 < table["exposure"].mean() < 0.3


def test_a_re_mark_counts_instead_of_the_first_marking(unit2):
    data = read_response_data(unit2.engine, 2)
    with Session(unit2.engine) as session:
        first, latest = result_history(session, unit2.remarked)
    cell = next(c for c in latest.item_scores if c["item_id"] == unit2.remarked_item)
    assert next(c for c in first.item_scores if c["item_id"] == unit2.remarked_item)["score"] == 0
    assert data.scores.at[unit2.remarked, column_key(cell["item_id"], cell["version"])] == cell["score"] == 1
    row = data.sittings.loc[unit2.remarked]
    assert row["result_id"] == latest.id and row["remarked"] and row["total"] == first.total + 1
    assert row["marked_at"] - row["first_marked_at"] == timedelta(days=2)


def test_the_sqlite_path_reads_exactly_what_the_portable_path_reads(unit2):
    fast = read_response_data(unit2.engine, 2, include_practice=True)
    portable = read_response_data(unit2.engine, 2, include_practice=True, method="portable")
    for name in ("scores", "omitted", "choices", "sittings", "lo_scores", "lo_maxima", "items"):
        pd.testing.assert_frame_equal(getattr(fast, name), getattr(portable, name), check_exact=True)
    pd.testing.assert_series_equal(fast.max_marks, portable.max_marks)


def test_results_written_otherwise_are_read_the_slow_way_and_give_the_same_frames(tmp_path):
    """SQLite's fast path: item scores with their keys in another order, or a score stored as
    text, are read as they are; a field that does not fit (null where true or false belongs)
    sends its chunk down the portable path rather than being misread."""
    unit = make_unit()
    items = [make_item(n, unit.criteria[(n - 1) % 4].number, facility=0.45 + 0.05 * n, angoff=0.4) for n in range(1, 9)]
    catalogue = Catalogue({9: UnitPackage(make_bank(unit, items), make_blueprint(unit, total_marks=6), "digest")})
    engine = open_database(f"sqlite:///{tmp_path / 'odd.db'}")
    first, second, third = simulate_sittings(engine, Assembler(catalogue), 9, 12, 4, NOVEMBER).sittings[:3]
    with engine.begin() as connection:
        reordered = connection.exec_driver_sql("SELECT item_scores FROM results WHERE sitting_id = ?", (first,)).scalar_one()
        cells = [dict(reversed(list(c.items()))) for c in json.loads(reordered)]
        connection.exec_driver_sql("UPDATE results SET item_scores = ? WHERE sitting_id = ?", (json.dumps(cells), first))
        connection.exec_driver_sql(
            "UPDATE results SET item_scores = json_set(item_scores, '$[0].answered', json('null')) WHERE sitting_id = ?", (second,)
        )
        connection.exec_driver_sql(
            "UPDATE results SET item_scores = json_set(item_scores, '$[1].score', '0') WHERE sitting_id = ?", (third,)
        )
    fast = read_response_data(engine, 9)
    portable = read_response_data(engine, 9, method="portable")
    engine.dispose()
    for name in ("scores", "omitted", "choices", "sittings", "items"):
        pd.testing.assert_frame_equal(getattr(fast, name), getattr(portable, name), check_exact=True)
    assert len(fast.sittings) == 12


def test_learning_outcome_subtotals_are_each_results_by_learning_outcome(unit2):
    data = read_response_data(unit2.engine, 2)
    for sitting_id, result in counted_results(unit2.engine).items():
        for outcome, subtotal in result.by_learning_outcome.items():
            assert data.lo_scores.at[sitting_id, int(outcome)] == subtotal["score"]
            assert data.lo_maxima.at[sitting_id, int(outcome)] == subtotal["maximum"]


def test_the_options_table_counts_the_answers_stored(unit2, settings):
    stats = unit_statistics(unit2.engine, unit2.catalogue, settings, 2)
    assert list(stats.options.columns) == list(OPTION_TABLE_COLUMNS)
    chosen: dict[str, Counter[str]] = defaultdict(Counter)
    with Session(unit2.engine) as session:
        for sitting_id, result in counted_results(unit2.engine).items():
            answers = load_responses(session, sitting_id)
            for cell in result.item_scores:
                if unit2.catalogue.units[2].bank.item(cell["item_id"]).type is ItemType.SINGLE:
                    given = answers.get(cell["position"]) if cell["answered"] else ""
                    chosen[column_key(cell["item_id"], cell["version"])][given] += 1
    options = stats.options.set_index(["item", "option"])
    assert set(options.index.get_level_values("item")) == set(chosen)
    for key, counts in chosen.items():
        for option, n in counts.items():
            assert options.at[(key, option), "n"] == n
        assert options.loc[key]["n"].sum() == sum(counts.values())
    # Every single-response item has its keyed option marked, and only one.
    assert (stats.options.groupby("item")["is_key"].sum() == 1).all()


def test_item_history_gives_each_month_of_first_marking(unit2, settings):
    table = unit_statistics(unit2.engine, unit2.catalogue, settings, 2).items
    row = table.sort_values("n").iloc[-1]  # the most used item version
    history = [h for h in item_history(unit2.engine, unit2.catalogue, 2, row["item_id"]) if h.version == row["version"]]
    assert [h.period for h in history] == ["2026-10", "2026-11"]
    assert sum(h.n for h in history) == row["n"]
    assert sum(h.p * h.n for h in history) / row["n"] == pytest.approx(row["p"], abs=1e-12)
    # The same r as the item table's, on one month's sittings: r(mark, rest of own form as a proportion).
    key = row["item"]
    results = counted_results(unit2.engine)
    with Session(unit2.engine) as session:
        first_marked = {s: result_history(session, s)[0].marked_at for s in results}
    for point in history:
        pairs = [
            (c["score"], (result.total - c["score"]) / (result.maximum - c["marks"]))
            for sitting_id, result in results.items()
            if first_marked[sitting_id].strftime("%Y-%m") == point.period
            for c in result.item_scores
            if column_key(c["item_id"], c["version"]) == key
        ]
        x, rest = np.array(pairs).T
        assert point.n == len(pairs)
        assert point.r_item_rest == pytest.approx(np.corrcoef(x, rest)[0, 1], abs=1e-12)


def test_on_demand_forms_get_no_alpha_and_the_rasch_reliability_is_given_instead(unit2, settings):
    stats = unit_statistics(unit2.engine, unit2.catalogue, settings, 2, min_form_candidates=2)
    assert stats.forms == ()
    assert math.isnan(stats.test.alpha) and stats.items["alpha_if_deleted"].isna().all()
    assert 0.5 < stats.rasch_reliability < 1
    assert "person separation" in " ".join(stats.conventions)
    assert stats.test.pass_rate == pytest.approx(
        sum(r.outcome == "Pass" for r in counted_results(unit2.engine).values()) / stats.counted_sittings
    )


def test_a_fixed_form_gets_alpha_and_sem(database_url, settings):
    """A unit whose every form holds the whole pool of 8 one-mark items: one fixed form."""
    unit = make_unit()
    items = [make_item(n, unit.criteria[(n - 1) % 4].number, facility=0.45 + 0.05 * n, angoff=0.4) for n in range(1, 9)]
    catalogue = Catalogue({9: UnitPackage(make_bank(unit, items), make_blueprint(unit, total_marks=8), "digest")})
    engine = open_database(database_url)
    simulate_sittings(engine, Assembler(catalogue), 9, 40, 3, NOVEMBER)
    stats = unit_statistics(engine, catalogue, settings, 9, min_form_candidates=30)
    data = read_response_data(engine, 9)
    engine.dispose()
    (form,) = stats.forms
    assert form.test.n == 40 and len(form.items) == 8
    # KR-20 for 0/1 items, computed here from the matrix: k/(k-1) (1 - sum p q / var(total)).
    x = data.scores.to_numpy()
    p = x.mean(axis=0)
    kr20 = 8 / 7 * (1 - (p * (1 - p) * 40 / 39).sum() / x.sum(axis=1).var(ddof=1))
    assert form.test.alpha == pytest.approx(kr20, abs=1e-12)
    assert form.test.sem == pytest.approx(x.sum(axis=1).std(ddof=1) * math.sqrt(1 - kr20), abs=1e-12)
    assert stats.test.alpha == pytest.approx(kr20, abs=1e-12)  # the unit is that one form
    assert stats.items["alpha_if_deleted"].notna().all()


def test_calibration_recovers_the_generating_difficulties(database_url, settings):
    """The simulator answers right with P = 1 / (1 + exp(-(theta + logit(facility)))), a Rasch
    model with b = -logit(facility) (psychometrics.simulation). 60 single-response items with
    facilities spread from 0.15 to 0.90 (b from -2.2 to +1.7 logits), 400 candidates on 15-item
    on-demand forms (about 100 responses an item). Measured: r = 0.973 and RMSE 0.24 logits
    after centring both (seed 11); 2% omissions, scored 0, shrink the scale a little (slope
    0.93). The shipped Unit 2 bank is no test of this: its writers' facilities span 0.50-0.82,
    an SD of 0.34 logits, about the standard error of b at the sample sizes a test can afford."""
    unit = make_unit((3, 3))
    facilities = np.linspace(0.15, 0.90, 60)[np.random.default_rng(3).permutation(60)]
    items = [
        make_item(n, unit.criteria[(n - 1) % 6].number, facility=round(float(f), 3), angoff=round(float(f) * 0.8, 3))
        for n, f in enumerate(facilities, start=1)
    ]
    catalogue = Catalogue({9: UnitPackage(make_bank(unit, items), make_blueprint(unit, total_marks=15), "digest")})
    engine = open_database(database_url)
    simulate_sittings(engine, Assembler(catalogue), 9, 400, 11, NOVEMBER)
    table = unit_statistics(engine, catalogue, settings, 9).items
    engine.dispose()
    facility = {item.id: item.facility for item in items}
    generating = np.array([math.log((1 - facility[i]) / facility[i]) for i in table["item_id"]])
    b = table["b"].to_numpy()
    assert len(table) == 60 and np.isfinite(b).all()
    r = np.corrcoef(b, generating)[0, 1]
    rmse = math.sqrt(np.mean(((b - b.mean()) - (generating - generating.mean())) ** 2))
    assert r > 0.95
    assert rmse < 0.35
    assert abs(b.mean()) < 1e-9  # sum-zero centring


def test_the_tables_are_empty_when_nothing_counts(database_url, shipped, settings):
    engine = open_database(database_url)
    stats = unit_statistics(engine, shipped, settings, 2)
    engine.dispose()
    assert stats.counted_sittings == 0 and stats.items.empty and stats.options.empty and stats.forms == ()
    assert list(stats.items.columns) == list(ITEM_TABLE_COLUMNS)


def test_classical_definitions_are_the_psychometrics_modules(unit2, settings):
    """The service adds data and names, not numbers: its item columns are item_statistics' own."""
    stats = unit_statistics(unit2.engine, unit2.catalogue, settings, 2)
    data = read_response_data(unit2.engine, 2)
    direct = classical.item_statistics(data.scores, data.max_marks.to_dict(), data.omitted, thresholds=settings.thresholds)
    for name in ("n", "p", "sd", "r_item_total", "r_item_rest", "d_upper_lower", "disc_efficiency"):
        np.testing.assert_array_equal(stats.items[name].to_numpy(), direct[name].to_numpy())
