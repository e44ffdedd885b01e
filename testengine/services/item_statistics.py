"""Item statistics of a unit from its marked sittings: what analysts review items by.

One row per item *version* shown to candidates (a revised item is a new version, and its
statistics start again). The definitions are those of shared/docs/psychometrics.md, computed by
psychometrics.classical (facility, discrimination, distractors, flags) and
psychometrics.rasch (conditional ML difficulties); this module chooses the data (the latest
marking of every sitting that counts: storage.response_data) and states the conventions.
"""

from __future__ import annotations

import math
import time
from collections.abc import Hashable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy.engine import Engine

from testengine.psychometrics import classical
from testengine.psychometrics.classical import Histogram, TestStatistics
from testengine.psychometrics.item_flags import flag_items
from testengine.psychometrics.rasch import RaschCalibration, calibrate
from testengine.services.analysis import AnalysisSettings
from testengine.services.catalogue import Catalogue
from testengine.storage.response_data import ResponseData, full_marks, read_response_data
from testengine.storage.response_times import median_seconds

ITEM_TABLE_COLUMNS = (
    "item", "item_id", "version", "criterion", "learning_outcome", "type", "status", "bank_version",
    "n", "omit_rate", "p", "sd", "r_item_total", "r_item_rest", "alpha_if_deleted", "d_upper_lower",
    "disc_efficiency", "exposure", "median_seconds", "flags", "b", "se", "infit", "outfit", "rasch_n", "rasch_note",
)
OPTION_TABLE_COLUMNS = ("item", "item_id", "version", *classical.OPTION_COLUMNS[1:])
PASS = "Pass"

CONVENTIONS: tuple[str, ...] = (
    "Data: the result in force (the latest marking, so re-marks count) of every sitting of the unit that is not "
    "voided, absent or abandoned; practice sittings only when asked for; simulated sittings are marked as such.",
    "Items are item versions (\"U2-0001@v2\"): a revised item starts new statistics. Criterion and learning outcome "
    "are those of the version shown; status and bank version are the bank's now.",
    *classical.CONVENTIONS,
    "Exposure = sittings presented the item version / sittings counted.",
    "Single-response options are judged against the option the marking in force credited (the key, or a corrected key "
    "after a re-mark).",
    "Pass rate = share of counted sittings whose outcome is Pass (each form's own cut score and hurdles). Per learning "
    "outcome: share of the sittings with marks on it that gained at least the form's pass proportion (cut score / "
    "maximum) of that learning outcome's marks.",
    "Forms: sittings presented exactly the same item versions count as one form; alpha and SEM are given for each such "
    "form with at least the minimum number of candidates. With on-demand forms almost no two candidates share a form, "
    "so reliability comes from the Rasch person separation.",
    "Rasch: dichotomous, an item scores 1 only with full marks (partial credit counts 0); candidates with zero or full "
    "marks on their form carry no information and are left out; difficulties are centred on the calibrated items.",
)


@dataclass(frozen=True)
class OutcomeRate:
    """How candidates did on one learning outcome."""

    learning_outcome: int
    n: int  # counted sittings whose form had marks on it
    mean_share: float  # mean of marks gained / marks available on it
    pass_rate: float  # share gaining at least the form's pass proportion of its marks


@dataclass(frozen=True)
class FormStatistics:
    """One fixed form: the sittings presented exactly these item versions."""

    form_id: int  # the lowest form record among them (each sitting has its own record)
    items: tuple[str, ...]  # item-version keys
    test: TestStatistics  # n, mean, SD, alpha (KR-20 for 0/1 items), SEM, histogram on raw marks


@dataclass(frozen=True)
class HistoryPoint:
    """An item version's statistics among the sittings first marked in one month (a re-mark
    stays in the month the sitting was first marked, with its new marks)."""

    period: str  # "2026-11"
    version: int
    n: int
    p: float
    r_item_rest: float


@dataclass(frozen=True, eq=False)
class UnitStatistics:
    """Everything the analysts' unit page shows; the frames follow ITEM_TABLE_COLUMNS and
    OPTION_TABLE_COLUMNS."""

    unit: int
    items: pd.DataFrame
    options: pd.DataFrame
    test: TestStatistics  # the unit: n, mean, SD, histogram, pass rate (alpha NaN unless one fixed form)
    learning_outcomes: tuple[OutcomeRate, ...]
    forms: tuple[FormStatistics, ...]  # fixed forms with at least min_form_candidates, largest first
    rasch_reliability: float  # person separation reliability
    rasch_method: str
    rasch_candidates: int  # candidates with a non-extreme score, the ones the calibration used
    conventions: tuple[str, ...]
    settings: AnalysisSettings
    counted_sittings: int
    include_practice: bool
    include_simulated: bool
    min_form_candidates: int
    timings: Mapping[str, float]  # seconds: read, classical (after the read), rasch (overlapping both), total


def unit_statistics(
    engine: Engine,
    catalogue: Catalogue,
    settings: AnalysisSettings,
    unit: str | int,
    include_practice: bool = False,
    include_simulated: bool = True,
    *,
    min_form_candidates: int | None = None,
) -> UnitStatistics:
    """Item, option, test, form and Rasch statistics of the unit's counted sittings.

    Alpha (and so SEM and alpha-if-deleted) needs candidates who all sat the same items: it is
    computed per fixed form, for forms with at least `min_form_candidates` candidates (default:
    the settings' min_n_corr). Forms assembled on demand are all different, so then `forms` is
    empty, the unit's alpha is NaN, and the reliability to quote is `rasch_reliability` (person
    separation, stated as such).

    Three things run at once on two threads: the Rasch calibration starts as soon as the scores
    are read, the distractor analysis as soon as the answers are, and the item and test
    statistics in this thread (numpy and SQLite release the GIL for much of the work).
    """
    started = time.perf_counter()
    package = catalogue.unit(unit)
    minimum = settings.thresholds.min_n_corr if min_form_candidates is None else min_form_candidates
    t = settings.thresholds
    with ThreadPoolExecutor(2, thread_name_prefix="item-statistics") as pool:
        rasch_jobs: list[Future[tuple[RaschCalibration, float]]] = []
        # Rasch needs only the scores: it starts while the rest of the data is put together.
        data = read_response_data(
            engine, package.number, include_practice=include_practice, include_simulated=include_simulated,
            scores_ready=lambda scores, max_marks: rasch_jobs.append(pool.submit(_calibrate, scores, max_marks)),
        )
        read = time.perf_counter()
        prepared = classical.prepare(data.scores, data.max_marks.to_dict(), data.omitted) if data.counted else None
        options_job = pool.submit(_options, data, prepared, settings)
        items = _items(prepared, settings)
        test = _unit_test(data, prepared)
        forms = _forms(data, minimum)
        options = options_job.result()
        # As item_statistics(options=...) would: the same flags, with the form's alpha for ALPHA_UP.
        items["flags"] = flag_items(items, options, alpha=test.alpha, thresholds=t) if len(items) else []
        classical_done = time.perf_counter()
        calibration, rasch_seconds = rasch_jobs[0].result() if rasch_jobs else _calibrate(data.scores, data.max_marks)
    options = _with_versions(options, data)
    times = median_seconds(engine, package.number, include_practice, include_simulated)
    table = _item_table(data, items, calibration, catalogue, package.number, settings, times)
    total = time.perf_counter() - started
    return UnitStatistics(
        unit=package.number,
        items=table,
        options=options,
        test=test,
        learning_outcomes=_outcome_rates(data),
        forms=forms,
        rasch_reliability=calibration.reliability,
        rasch_method=calibration.method,
        rasch_candidates=calibration.n_calibration,
        conventions=(*CONVENTIONS, f"Rasch calibration: {calibration.method}."),
        settings=settings,
        counted_sittings=data.counted,
        include_practice=include_practice,
        include_simulated=include_simulated,
        min_form_candidates=minimum,
        timings={"read": read - started, "classical": classical_done - read, "rasch": rasch_seconds, "total": total},
    )


def _options(data: ResponseData, prepared: classical.Responses | None, settings: AnalysisSettings) -> pd.DataFrame:
    """Distractor analysis of the single-response items, against the option the marking credited."""
    keys: dict[Hashable, Hashable] = {}
    labels: dict[Hashable, list[Hashable]] = {}
    for column in data.choices.columns:
        version = data.versions[column]
        credited = data.items.at[column, "credited"]
        keys[column] = credited if isinstance(credited, str) else version.key[0]
        seen = set(pd.unique(data.choices[column].dropna())) - {""}
        listed: list[Hashable] = list(version.option_ids)
        labels[column] = listed + sorted(seen - set(listed), key=str)
    if prepared is None or not len(data.choices.columns):
        return pd.DataFrame({name: [] for name in classical.OPTION_COLUMNS})
    # A blank choice is an omitted item in ResponseData, so the prepared responses serve.
    return classical.option_statistics(data.choices, keys, prepared, option_labels=labels, thresholds=settings.thresholds)


def _items(prepared: classical.Responses | None, settings: AnalysisSettings) -> pd.DataFrame:
    if prepared is None:
        return pd.DataFrame({name: [] for name in classical.ITEM_COLUMNS})
    return classical.item_statistics(prepared, thresholds=settings.thresholds)


def _with_versions(options: pd.DataFrame, data: ResponseData) -> pd.DataFrame:
    meta = data.items.reindex(options["item"].tolist())
    options = options.copy()
    options.insert(1, "item_id", meta["item_id"].to_numpy())
    options.insert(2, "version", meta["version"].to_numpy())
    return options[list(OPTION_TABLE_COLUMNS)].reset_index(drop=True)


def _calibrate(scores: pd.DataFrame, max_marks: pd.Series) -> tuple[RaschCalibration, float]:
    """Rasch on full marks (1) versus anything less (0); NaN stays not presented."""
    started = time.perf_counter()
    binary = full_marks(scores, max_marks)  # rows contiguous: calibrate() walks candidates row by row
    if not binary.size:  # calibrate() needs at least one response
        nothing = np.zeros(0)
        empty = RaschCalibration(
            (), nothing, nothing, nothing, nothing, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=bool), {}, math.nan, 0, 0, "conditional ML: no responses", False, 0, math.nan, math.nan, math.nan,
        )
        return empty, time.perf_counter() - started
    calibration = calibrate(pd.DataFrame(binary, columns=scores.columns))
    return calibration, time.perf_counter() - started


def _unit_test(data: ResponseData, prepared: classical.Responses | None) -> TestStatistics:
    if prepared is None:
        return TestStatistics(0, 0, "marks", 0.0, math.nan, math.nan, math.nan, math.nan, Histogram((), ()), None)
    test = classical.test_statistics(prepared)
    return replace(test, pass_rate=float((data.sittings["outcome"] == PASS).mean()))


def _outcome_rates(data: ResponseData) -> tuple[OutcomeRate, ...]:
    cut_share = (data.sittings["cut_score"] / data.sittings["maximum"]).to_numpy()
    rates = []
    for number in data.lo_scores.columns:
        gained = data.lo_scores[number].to_numpy()
        available = data.lo_maxima[number].to_numpy()
        on_form = ~np.isnan(available) & (available > 0)
        share = gained[on_form] / available[on_form]
        # Rounded to 9 places first: 0.6 x 10 marks must meet a 6-mark bar.
        met = np.round(share - cut_share[on_form], 9) >= 0
        n = int(on_form.sum())
        rates.append(OutcomeRate(int(number), n, float(share.mean()) if n else math.nan, float(met.mean()) if n else math.nan))
    return tuple(rates)


def _forms(data: ResponseData, minimum: int) -> tuple[FormStatistics, ...]:
    """Sittings grouped by the exact set of item versions presented; statistics for large groups."""
    if not data.counted:
        return ()
    scores, omitted = data.scores.to_numpy(), data.omitted.to_numpy()
    presented = ~np.isnan(scores)
    packed = np.packbits(presented, axis=1)
    signature = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()
    group, _ = pd.factorize(signature)
    sizes = np.bincount(group)
    form_ids = data.sittings["form_id"].to_numpy()
    found = []
    for g in np.flatnonzero(sizes >= max(minimum, 2)):
        rows = np.flatnonzero(group == g)
        cols = np.flatnonzero(presented[rows[0]])
        columns = data.scores.columns[cols]
        test = classical.test_statistics(
            pd.DataFrame(scores[np.ix_(rows, cols)], columns=columns),
            dict(zip(columns, data.max_marks.to_numpy()[cols])),
            pd.DataFrame(omitted[np.ix_(rows, cols)], columns=columns),
        )
        found.append(FormStatistics(int(form_ids[rows].min()), tuple(str(c) for c in columns), test))
    return tuple(sorted(found, key=lambda f: (-f.test.n, f.form_id)))


def _item_table(
    data: ResponseData,
    items: pd.DataFrame,
    calibration: RaschCalibration,
    catalogue: Catalogue,
    unit: int,
    settings: AnalysisSettings,
    times: Mapping[tuple[str, int], float],
) -> pd.DataFrame:
    bank = catalogue.unit(unit).bank
    meta = data.items
    table = items.copy()
    for at, name in enumerate(("item_id", "version", "criterion", "learning_outcome", "type"), start=1):
        table.insert(at, name, meta[name].to_numpy())
    in_bank = [bank.item(str(item_id)) for item_id in meta["item_id"]]
    table.insert(6, "status", [item.status.value if item else "not in bank" for item in in_bank])
    table.insert(7, "bank_version", pd.array([item.version if item else None for item in in_bank], dtype="Int64"))
    table["exposure"] = meta["exposure"].to_numpy()
    # Seconds on screen up to the last change of answer, as the players counted them (NaN: none reported).
    table["median_seconds"] = [times.get((str(i), int(v)), math.nan) for i, v in zip(meta["item_id"], meta["version"], strict=True)]
    rasch = calibration.to_frame().set_index("item").reindex(meta.index)
    table["b"] = rasch["b"].to_numpy()
    table["se"] = rasch["se"].to_numpy()
    table["infit"] = rasch["infit"].to_numpy()
    table["outfit"] = rasch["outfit"].to_numpy()
    table["rasch_n"] = rasch["n"].fillna(0).to_numpy(dtype=np.int64)
    minimum = settings.min_calibration_responses
    notes = []
    for note, n in zip(rasch["note"].fillna("").tolist(), table["rasch_n"].tolist()):
        if not note and n < minimum:
            note = f"fewer than {minimum} informative responses: not yet used in assembly"
        notes.append(note)
    table["rasch_note"] = notes
    return table[list(ITEM_TABLE_COLUMNS)].reset_index(drop=True)


def item_history(
    engine: Engine,
    catalogue: Catalogue,
    unit: str | int,
    item_id: str,
    include_practice: bool = False,
    include_simulated: bool = True,
) -> list[HistoryPoint]:
    """The item's facility and item-rest r by month of first marking, per version, oldest first.

    Same definitions as the item table: p = mean mark / max mark; r_item_rest = Pearson r of
    the item's marks with the rest of the candidate's own form as a proportion,
    (total - mark) / (maximum - max mark); NaN with fewer than two candidates or no spread.
    """
    package = catalogue.unit(unit)
    data = read_response_data(
        engine, package.number, include_practice=include_practice, include_simulated=include_simulated, item_id=item_id
    )
    months = data.sittings["first_marked_at"].dt.strftime("%Y-%m").to_numpy()
    total = data.sittings["total"].to_numpy(dtype=np.float64)
    maximum = data.sittings["maximum"].to_numpy(dtype=np.float64)
    points = []
    for column in data.items.index[data.items["item_id"] == item_id]:
        marks = float(data.max_marks[column])
        x = data.scores[column].to_numpy()
        shown = ~np.isnan(x)
        for period in sorted(set(months[shown])):
            rows = shown & (months == period)
            mark = x[rows]
            rest_max = maximum[rows] - marks
            has_rest = rest_max > 0
            rest = (total[rows][has_rest] - mark[has_rest]) / rest_max[has_rest]
            points.append(
                HistoryPoint(period, int(data.items.at[column, "version"]), int(rows.sum()), float(mark.mean() / marks),
                             _pearson(mark[has_rest], rest))
            )
    return sorted(points, key=lambda point: (point.period, point.version))


def _pearson(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> float:
    if x.size < 2:
        return math.nan
    dx, dy = x - x.mean(), y - y.mean()
    sxx, syy = float(dx @ dx), float(dy @ dy)
    # As classical._grouped_r: a constant variable leaves rounding dust, not zero.
    if sxx <= 1e-12 * float(x @ x) or syy <= 1e-12 * float(y @ y):
        return math.nan
    return float(dx @ dy) / math.sqrt(sxx * syy)
