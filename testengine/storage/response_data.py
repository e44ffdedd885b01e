"""A unit's marked responses as matrices, for item analysis.

What counts: the latest result (highest id: a re-mark supersedes) of every sitting of the unit
that is not voided, absent or abandoned; practice sittings only when asked for; simulated ones
unless left out. Items are item *versions*: the columns are keys like "U2-0001@v2" (column_key).

How the item scores and answers are read (SQLite's JSON functions, a second connection and
thread for the answers, or the portable path on other databases): response_cells.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, func, select
from sqlalchemy.engine import Engine

from testengine.domain.items import Item, ItemType
from testengine.storage.response_cells import (
    CHUNK,
    Answers,
    Cells,
    Reader,
    StoredUnit,
    decode_json,
    join_answers,
    join_cells,
    portable_answers,
    portable_cells,
    reading,
    sqlite_answers,
    sqlite_cells,
    stored_unit,
    table,
)
from testengine.storage.tables import FormItemRecord, ResultRecord, SittingRecord

# Sittings in these states never count, whatever their results say.
EXCLUDED_STATUSES = ("voided", "absent", "abandoned")
BLANK = ""  # in `choices`: a presented single-response item left blank


def full_marks(scores: pd.DataFrame, max_marks: pd.Series) -> np.ndarray:
    """1 where a sitting gained all of an item version's marks, 0 where less, NaN where the item
    was not presented: the scoring Rasch calibration and DIF use. Candidates x items, rows in
    contiguous memory."""
    values = scores.to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        right = values >= max_marks.to_numpy(dtype=np.float64)[None, :]
    return np.ascontiguousarray(np.where(np.isnan(values), np.nan, right.astype(np.float64)))


def column_key(item_id: str, version: int) -> str:
    """The column of an item version: "U2-0001@v2"."""
    return f"{item_id}@v{version}"


@dataclass(frozen=True, eq=False)
class ResponseData:
    """One unit's counted sittings; every frame's index is the sitting id, ascending.

    scores: marks per sitting and item version (float); NaN = not presented, 0 = presented and
        wrong or left blank.
    omitted: True where the item was presented and not answered (it scores 0).
    max_marks: the marks of each column.
    choices: single-response columns only (object dtype): the option id chosen, BLANK ("")
        where presented and left blank, None where not presented.
    sittings: candidate_id, form_id, practice, simulated, result_id, remarked (marked more than
        once), total, maximum, cut_score, outcome, failed_hurdles (tuple of learning outcomes),
        marked_at (of the result in force) and first_marked_at (the first marking), UTC.
    lo_scores, lo_maxima: marks gained and available per learning outcome (columns: outcome
        numbers), as in the result's by_learning_outcome; NaN where the form had none of it.
    items: per column (index: column key): item_id, version, type, marks, criterion and
        learning_outcome of the version shown, key (single response: the stored key),
        credited (single response: the option the markings in force gave full marks to, which
        differs from the key after a re-mark with a corrected key), presented (sittings shown
        it) and exposure (presented / counted sittings).
    versions: the stored item version of each column.
    """

    unit: int
    scores: pd.DataFrame
    omitted: pd.DataFrame
    max_marks: pd.Series
    choices: pd.DataFrame
    sittings: pd.DataFrame
    lo_scores: pd.DataFrame
    lo_maxima: pd.DataFrame
    items: pd.DataFrame
    versions: dict[str, Item]

    @property
    def counted(self) -> int:
        return len(self.sittings)


def read_response_data(
    engine: Engine,
    unit: int,
    *,
    include_practice: bool = False,
    include_simulated: bool = True,
    item_id: str | None = None,
    method: str = "auto",
    scores_ready: Callable[[pd.DataFrame, pd.Series], None] | None = None,
) -> ResponseData:
    """The unit's counted sittings as matrices (see ResponseData).

    item_id: only the sittings whose form had that item (any version), for an item's history.
    method: "auto" (SQLite's JSON functions on SQLite, else portable) or "portable".
    scores_ready: called with the scores and max marks as soon as they exist, before the
        choices and the rest are built, so that work needing only them can start.
    """
    if method not in ("auto", "portable"):
        raise ValueError(f"method must be 'auto' or 'portable', not {method!r}")
    fast = engine.dialect.name == "sqlite" and method == "auto"
    with reading(engine) as read:
        head = _sittings(read, unit, include_practice, include_simulated, item_id)
        stored = stored_unit(read, unit)
        result_ids = head["result_id"].to_numpy(dtype=np.int64)
        sitting_ids = head.index.to_numpy(dtype=np.int64)
        first = _first_markings(read, sitting_ids[head["remarked"].to_numpy(dtype=bool)])
        if not fast:
            cells = [portable_cells(read, stored, result_ids[at : at + CHUNK]) for at in range(0, len(result_ids), CHUNK)]
            answers = [portable_answers(read, sitting_ids[at : at + CHUNK]) for at in range(0, len(sitting_ids), CHUNK)]
    if fast:
        # Two streams on two connections. Decoding item scores is SQLite's JSON code, whose
        # allocations take one process-wide lock, so two of them at once are slower than one;
        # the answers' plain index scan runs well beside it.
        with ThreadPoolExecutor(1, thread_name_prefix="response-data") as pool:
            width = int(head["maximum"].max()) if len(head) else 0
            cells_job = pool.submit(sqlite_cells, engine, stored, result_ids, width)
            answers = sqlite_answers(engine, sitting_ids)
            cells = cells_job.result()
    return _assemble(stored, head, first, join_cells(cells), join_answers(answers), scores_ready)


# ---------------------------------------------------------------------------------------------
# Reading


def _sittings(read: Reader, unit: int, practice: bool, simulated: bool, item_id: str | None) -> pd.DataFrame:
    """Counted sittings and their result in force: columns that precede the JSON in the row, so
    that SQLite need not follow a large row's overflow pages."""
    s, r = table(SittingRecord), table(ResultRecord)
    markings = (
        select(r.c.sitting_id, func.max(r.c.id).label("latest"), func.count().label("markings"))
        .group_by(r.c.sitting_id)
        .subquery("markings")
    )
    conditions = [s.c.unit == unit, s.c.status.not_in(EXCLUDED_STATUSES)]
    if not practice:
        conditions.append(s.c.practice.is_(False))
    if not simulated:
        conditions.append(s.c.simulated.is_(False))
    if item_id is not None:
        fi = table(FormItemRecord)
        conditions.append(select(fi.c.form_id).where(fi.c.form_id == s.c.form_id, fi.c.item_id == item_id).exists())
    statement = (
        select(
            s.c.id, s.c.candidate_id, r.c.form_id, s.c.practice, s.c.simulated, r.c.id, markings.c.markings,
            r.c.total, r.c.maximum, r.c.cut_score, r.c.outcome,
        )
        .select_from(s.join(markings, markings.c.sitting_id == s.c.id).join(r, r.c.id == markings.c.latest))
        .where(and_(*conditions))
        .order_by(s.c.id)
    )
    columns = [
        "sitting_id", "candidate_id", "form_id", "practice", "simulated", "result_id", "markings", "total", "maximum",
        "cut_score", "outcome",
    ]
    frame = pd.DataFrame.from_records(read.rows(statement), columns=columns).set_index("sitting_id")
    for name in ("candidate_id", "form_id", "result_id", "markings", "total", "maximum", "cut_score"):
        frame[name] = frame[name].astype(np.int64)
    for name in ("practice", "simulated"):
        frame[name] = frame[name].astype(bool)
    frame["outcome"] = frame["outcome"].astype(object)
    frame["remarked"] = frame.pop("markings") > 1
    return frame


def _first_markings(read: Reader, sitting_ids: np.ndarray) -> dict[int, Any]:
    """When each re-marked sitting was first marked (for the others, the one marking)."""
    if not len(sitting_ids):
        return {}
    r = table(ResultRecord)
    statement = (
        select(r.c.sitting_id, func.min(r.c.marked_at))
        .where(r.c.sitting_id.in_([int(s) for s in sitting_ids]))
        .group_by(r.c.sitting_id)
    )
    return {int(sitting): when for sitting, when in read.rows(statement)}


# ---------------------------------------------------------------------------------------------
# The matrices


def _assemble(
    unit: StoredUnit,
    head: pd.DataFrame,
    first: dict[int, Any],
    cells: Cells,
    answers: Answers,
    scores_ready: Callable[[pd.DataFrame, pd.Series], None] | None,
) -> ResponseData:
    index = head.index
    ids = index.to_numpy(dtype=np.int64)
    n = len(ids)
    # Sitting id -> row, by lookup rather than by search: three million cells.
    row_of = np.full(int(ids.max(initial=0)) + 1, -1, dtype=np.int64)
    row_of[ids] = np.arange(n)
    row = row_of[cells.sitting]

    # Columns: the item versions marked, in id and version order.
    width = int(cells.version.max(initial=0)) + 1
    pair = cells.item * width + cells.version
    # The pairs in use, sorted (id order, then version), by counting: no sort of 3 million cells.
    pairs = np.flatnonzero(np.bincount(pair, minlength=len(unit.ids) * width))
    lookup = np.zeros(len(unit.ids) * width, dtype=np.int64)
    lookup[pairs] = np.arange(pairs.size)
    col = lookup[pair]
    refs = [(unit.ids[int(p) // width], int(p) % width) for p in pairs]
    missing = [ref for ref in refs if ref not in unit.versions]
    if missing:
        raise LookupError(f"item versions marked but not stored: {missing[:10]}")
    keys = [column_key(item_id, version) for item_id, version in refs]
    versions = [unit.versions[ref] for ref in refs]
    k = len(keys)
    marks = np.array([v.marks for v in versions], dtype=np.float64)

    # Matrices are built item by item (items x sittings, transposed for the frame): pandas keeps
    # each column contiguous then, and the statistics read them column by column.
    columns = pd.Index(keys, name="item")
    scores = np.full((k, n), np.nan)
    scores[col, row] = cells.score
    score_frame = pd.DataFrame(scores.T, index=index, columns=columns, copy=False)
    max_marks = pd.Series(marks, index=columns, name="max_marks")
    if scores_ready is not None:
        scores_ready(score_frame, max_marks)
    omitted = np.zeros((k, n), dtype=bool)
    omitted[col, row] = ~cells.answered
    presented = np.bincount(col, minlength=k)

    single = np.array([v.type is ItemType.SINGLE for v in versions], dtype=bool)
    codes, labels, credited = _choices(cells, answers, n, row, col, row_of, single, marks)

    # by_learning_outcome is these sums (domain.marking.mark): added up here, not decoded again.
    outcome_of = np.array([v.learning_outcome for v in versions], dtype=np.int64)
    lo_numbers = np.unique(outcome_of)
    slot = row * lo_numbers.size + np.searchsorted(lo_numbers, outcome_of)[col]
    size = n * lo_numbers.size
    lo_scores = np.bincount(slot, weights=cells.score, minlength=size).astype(np.float64).reshape(n, lo_numbers.size)
    lo_maxima = np.bincount(slot, weights=marks[col], minlength=size).astype(np.float64).reshape(n, lo_numbers.size)
    lo_maxima[lo_maxima == 0] = np.nan
    lo_scores[np.isnan(lo_maxima)] = np.nan

    sittings = head.copy()
    at = row_of[cells.result_sitting]
    marked = np.empty(n, dtype=object)
    marked[at] = cells.marked_at
    hurdles = np.empty(n, dtype=object)
    hurdles[at] = [() if value in ("[]", []) else tuple(decode_json(value)) for value in cells.failed_hurdles]
    sittings["failed_hurdles"] = hurdles
    sittings["marked_at"] = pd.to_datetime(pd.Series(marked, index=index), utc=True, format="ISO8601")
    earliest = pd.Series(marked, index=index)
    if first:
        earliest.loc[list(first)] = list(first.values())
    sittings["first_marked_at"] = pd.to_datetime(earliest, utc=True, format="ISO8601")

    single_cols = np.flatnonzero(single)
    credited_at = dict(zip(single_cols.tolist(), credited))
    items = pd.DataFrame(
        {
            "item_id": [ref[0] for ref in refs],
            "version": np.array([ref[1] for ref in refs], dtype=np.int64),
            "type": [v.type.value for v in versions],
            "marks": marks.astype(np.int64),
            "criterion": [v.criterion for v in versions],
            "learning_outcome": outcome_of,
            # object: None where not single response (pandas would make a string column with NaN)
            "key": pd.Series([_single_key(v) for v in versions], index=columns, dtype=object),
            "credited": pd.Series([credited_at.get(j) for j in range(k)], index=columns, dtype=object),
            "presented": presented.astype(np.int64),
            "exposure": presented / n if n else np.full(k, np.nan),
        },
        index=columns,
    )
    lo_columns = pd.Index(lo_numbers.tolist(), name="learning_outcome")
    return ResponseData(
        unit=unit.number,
        scores=score_frame,
        omitted=pd.DataFrame(omitted.T, index=index, columns=columns, copy=False),
        max_marks=max_marks,
        # object, not pandas' string dtype: None marks a cell not presented.
        choices=pd.DataFrame(labels[codes].T, index=index, columns=columns[single_cols], dtype=object, copy=False),
        sittings=sittings,
        lo_scores=pd.DataFrame(lo_scores, index=index, columns=lo_columns, copy=False),
        lo_maxima=pd.DataFrame(lo_maxima, index=index, columns=lo_columns, copy=False),
        items=items,
        versions=dict(zip(keys, versions)),
    )


def _choices(
    cells: Cells, answers: Answers, n: int, row: np.ndarray, col: np.ndarray, row_of: np.ndarray, single: np.ndarray,
    marks: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """Per single-response column and sitting (in that order), a code into labels (the options
    given, then BLANK, then None for not presented); and per single-response column the option
    credited: the one chosen most often by answers given full marks."""
    where = np.full(single.size, -1, dtype=np.int64)
    where[single] = np.arange(int(single.sum()))
    options = len(answers.options)
    labels = np.array([*answers.options, BLANK, None], dtype=object)
    codes = np.full((int(single.sum()), n), options + 1, dtype=np.int32)  # None: not presented
    shown = single[col]
    codes[where[col[shown]], row[shown]] = options  # BLANK until an answer is found
    # The answer at (sitting, position) belongs to the cell at that position, if it was answered.
    top = int(max(cells.position.max(initial=0), answers.position.max(initial=0))) + 1
    cell_at = np.full(n * top, -1, dtype=np.int32)
    answered = cells.answered & shown
    cell_at[(row * top + cells.position)[answered]] = col[answered]
    answer_row = row_of[answers.sitting]
    answer_col = cell_at[answer_row * top + answers.position] if answer_row.size else np.zeros(0, dtype=np.int32)
    keep = answer_col >= 0
    codes[where[answer_col[keep]], answer_row[keep]] = answers.code[keep]
    # Credited: over answered single-response cells that got full marks.
    full = answered & (cells.score >= marks[col])
    slots = where[col[full]]
    chosen = codes[slots, row[full]].astype(np.int64)
    counts = np.bincount(slots * (options + 2) + chosen, minlength=int(single.sum()) * (options + 2))
    counts = counts.reshape(-1, options + 2)[:, :options]
    best = counts.argmax(axis=1) if options else np.zeros(counts.shape[0], dtype=np.int64)
    credited = [str(labels[b]) if options and counts[j, b] > 0 else None for j, b in enumerate(best)]
    return codes, labels, credited


def _single_key(item: Item) -> str | None:
    return item.key[0] if item.type is ItemType.SINGLE else None
