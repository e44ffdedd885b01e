"""A unit's marked responses as matrices, for item analysis.

What counts: the latest result (highest id: a re-mark supersedes) of every sitting of the unit
that is not voided, absent or abandoned; practice sittings only when asked for; simulated ones
unless left out. Items are item *versions*: the columns are keys like "U2-0001@v2" (column_key).

Speed. 100,000 sittings hold 3 million item scores as JSON in results.item_scores; json.loads
alone would take about 6 s, so on SQLite the database decodes them and Python only parses
numbers (see _sqlite_cells): about 2.5 s for 100,000 results on the reference machine. The
single-response answers are read beside it on a second connection, by a second thread: the
SQLite library releases the GIL while a statement runs. (Two threads decoding JSON at once are
slower than one: SQLite's allocator takes a process-wide lock.) Every read is a plain deferred
transaction on a raw connection, not the engine's BEGIN IMMEDIATE, so a long read never holds
up the writer (WAL). The second connection is given the result ids of the first one's snapshot;
results and the answers of a marked sitting never change, so both read the same rows.

Other databases, or method="portable", take the portable path: the same rows, JSON decoded by
the driver, in Python. The tests check that both paths give the same frames.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Table, and_, func, select
from sqlalchemy.engine import Engine

from testengine.domain.items import Item, ItemType
from testengine.storage.item_records import item_from_json
from testengine.storage.tables import FormItemRecord, ItemVersionRecord, ResponseRecord, ResultRecord, SittingRecord

# Sittings in these states never count, whatever their results say.
EXCLUDED_STATUSES = ("voided", "absent", "abandoned")
BLANK = ""  # in `choices`: a presented single-response item left blank
_FIELDS = ("position", "item_id", "version", "score", "answered")
_CHUNK = 12_500  # results per statement: big enough to amortise it, small enough to keep memory flat


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


@dataclass
class _Cells:
    """One entry per item score (sitting and form position), and per result."""

    sitting: np.ndarray
    position: np.ndarray
    item: np.ndarray  # index into the unit's stored item ids
    version: np.ndarray
    score: np.ndarray
    answered: np.ndarray
    result_sitting: np.ndarray
    marked_at: list[Any]
    failed_hurdles: list[Any]


@dataclass
class _Answers:
    """One entry per single-response answer stored."""

    sitting: np.ndarray
    position: np.ndarray
    code: np.ndarray  # index into options
    options: list[str]


@dataclass(frozen=True)
class _Unit:
    """The unit's stored item versions, and the numbering of its item ids."""

    number: int
    versions: dict[tuple[str, int], Item]
    ids: list[str]  # sorted; _Cells.item indexes it
    by_number: np.ndarray | None  # 4-digit id number -> index into ids, when every id is U<unit>-<4 digits>
    marks: np.ndarray  # [index into ids, version] -> the version's marks, -1 where no such version


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
    with _reading(engine) as read:
        head = _sittings(read, unit, include_practice, include_simulated, item_id)
        stored = _unit(read, unit)
        result_ids = head["result_id"].to_numpy(dtype=np.int64)
        sitting_ids = head.index.to_numpy(dtype=np.int64)
        first = _first_markings(read, sitting_ids[head["remarked"].to_numpy(dtype=bool)])
        if not fast:
            cells = [_portable_cells(read, stored, result_ids[at : at + _CHUNK]) for at in range(0, len(result_ids), _CHUNK)]
            answers = [_portable_answers(read, sitting_ids[at : at + _CHUNK]) for at in range(0, len(sitting_ids), _CHUNK)]
    if fast:
        # Two streams on two connections. Decoding item scores is SQLite's JSON code, whose
        # allocations take one process-wide lock, so two of them at once are slower than one;
        # the answers' plain index scan runs well beside it.
        with ThreadPoolExecutor(1, thread_name_prefix="response-data") as pool:
            width = int(head["maximum"].max()) if len(head) else 0
            cells_job = pool.submit(_sqlite_cells, engine, stored, result_ids, width)
            answers = _sqlite_answers(engine, sitting_ids)
            cells = cells_job.result()
    return _assemble(stored, head, first, _join_cells(cells), _join_answers(answers), scores_ready)


# ---------------------------------------------------------------------------------------------
# Reading


class _Reader:
    """A consistent read: a raw DBAPI cursor on SQLite, an SQLAlchemy connection elsewhere."""

    def __init__(self, engine: Engine, cursor: Any, connection: Any) -> None:
        self.engine = engine
        self.cursor = cursor
        self.connection = connection

    def rows(self, statement: Any) -> list[Any]:
        if self.cursor is None:
            return list(self.connection.execute(statement).all())
        compiled = statement.compile(dialect=self.engine.dialect, compile_kwargs={"render_postcompile": True})
        params = compiled.construct_params()
        return list(self.cursor.execute(str(compiled), [params[name] for name in compiled.positiontup]).fetchall())


@contextmanager
def _reading(engine: Engine) -> Iterator[_Reader]:
    if engine.dialect.name == "sqlite":
        with _sqlite_snapshot(engine) as cursor:
            yield _Reader(engine, cursor, None)
    else:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                yield _Reader(engine, None, connection)


@contextmanager
def _sqlite_snapshot(engine: Engine) -> Iterator[Any]:
    """A raw connection in a deferred transaction: a consistent read that takes no write lock."""
    pooled = engine.raw_connection()
    try:
        cursor = pooled.cursor()
        cursor.execute("BEGIN")
        try:
            yield cursor
        finally:
            cursor.execute("ROLLBACK")
            cursor.close()
    finally:
        pooled.close()


def _table(record: Any) -> Table:
    table: Table = record.__table__
    return table


def _sittings(read: _Reader, unit: int, practice: bool, simulated: bool, item_id: str | None) -> pd.DataFrame:
    """Counted sittings and their result in force: columns that precede the JSON in the row, so
    that SQLite need not follow a large row's overflow pages."""
    s, r = _table(SittingRecord), _table(ResultRecord)
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
        fi = _table(FormItemRecord)
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


def _first_markings(read: _Reader, sitting_ids: np.ndarray) -> dict[int, Any]:
    """When each re-marked sitting was first marked (for the others, the one marking)."""
    if not len(sitting_ids):
        return {}
    r = _table(ResultRecord)
    statement = (
        select(r.c.sitting_id, func.min(r.c.marked_at))
        .where(r.c.sitting_id.in_([int(s) for s in sitting_ids]))
        .group_by(r.c.sitting_id)
    )
    return {int(sitting): when for sitting, when in read.rows(statement)}


def _json(value: Any) -> Any:
    """A JSON column: text from the raw SQLite driver, already decoded from SQLAlchemy."""
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def _unit(read: _Reader, unit: int) -> _Unit:
    v = _table(ItemVersionRecord)
    rows = read.rows(select(v.c.item_id, v.c.version, v.c.content).where(v.c.unit == unit))
    versions = {(item_id, version): item_from_json(_json(content)) for item_id, version, content in rows}
    ids = sorted({item_id for item_id, _ in versions})
    pattern = re.compile(rf"^U{unit}-([0-9]{{4}})$")
    numbers = [pattern.match(i) for i in ids]
    by_number = None
    if all(numbers):
        by_number = np.full(10_000, -1, dtype=np.int64)
        by_number[[int(m.group(1)) for m in numbers if m]] = np.arange(len(ids))
    position = {item_id: i for i, item_id in enumerate(ids)}
    marks = np.full((len(ids), max((version for _, version in versions), default=0) + 1), -1, dtype=np.int64)
    for (item_id, version), item in versions.items():
        marks[position[item_id], version] = item.marks
    return _Unit(unit, versions, ids, by_number, marks)


def _sqlite_cells(engine: Engine, unit: _Unit, result_ids: np.ndarray, width: int) -> list[_Cells]:
    """The item scores of the results, chunk by chunk, through SQLite's JSON functions.

    For each field, one json_extract with a path per array index ('$[0].score', '$[1].score',
    ...) returns that field of every item score of a result as a JSON array; SQLite parses the
    result's JSON once and serves all five calls from its parse cache. `width` is at least the
    number of item scores of any result (every item is worth a mark or more, so the maximum
    total will do); indexes past the end give null. One str.translate per field makes the
    arrays numbers, which numpy parses (see _parse_cells). A chunk that does not parse so, or
    whose values do not fit the stored item versions, is read again the portable way.
    """
    # SQLite takes at most 127 arguments a function: one call per field and 120 indexes.
    blocks = [range(start, min(start + 120, width)) for start in range(0, width, 120)]
    calls = ", ".join(
        "json_extract(r.item_scores, " + ", ".join(f"'$[{k}].{name}'" for k in block) + ")"
        for name in _FIELDS for block in blocks
    )
    # marked_at and failed_hurdles follow item_scores in the row: read them while it is loaded.
    statement = (
        f"SELECT r.sitting_id, r.marked_at, r.failed_hurdles, {calls} FROM results r "
        "WHERE r.id IN (SELECT value FROM json_each(?)) ORDER BY r.id"
    )
    parts = []
    with _sqlite_snapshot(engine) as cursor:
        for at in range(0, len(result_ids), _CHUNK):
            chunk = result_ids[at : at + _CHUNK]
            parsed = None
            if unit.by_number is not None and blocks:
                parsed = _parse_cells(cursor.execute(statement, (json.dumps(chunk.tolist()),)).fetchall(), unit, blocks)
            if parsed is None:
                with _reading(engine) as read:
                    parsed = _portable_cells(read, unit, chunk)
            parts.append(parsed)
    return parts


# JSON arrays -> whole numbers, one byte at a time (bytes.translate is a table lookup):
# [3,null,true,false,"U2-0042"] -> 3 -1 1 0 20042. Brackets and commas become spaces; quotes, the
# id's U and dash go; of the words only t/r/e, f/a/l/s/e and n/u/l/l's letters remain as 1, 0
# and -1 (u is 1 in true and in null: "-1"). Anything else stops numpy's parser and the count
# check catches it; an id outside the rule U<unit>-<4 digits> fails the unit check.
_NUMBERS = bytes.maketrans(b"[],nuf", b"   -10")
_DROPPED = b'"U-treals'


def _parse_cells(rows: Sequence[Any], unit: _Unit, blocks: list[range]) -> _Cells | None:
    """Rows of (sitting, marked_at, failed_hurdles, then per field one JSON array per block)."""
    assert unit.by_number is not None
    n, width = len(rows), sum(len(block) for block in blocks)
    field = {}
    for f, name in enumerate(_FIELDS):
        columns = range(3 + f * len(blocks), 3 + (f + 1) * len(blocks))
        text = " ".join(row[c] for row in rows for c in columns).encode("ascii", "replace").translate(_NUMBERS, _DROPPED)
        values = _whole_numbers(text, n * width)
        if values is None:
            return None
        field[name] = values.reshape(n, width)
    position = field["position"]
    present = position >= 0  # indexes past a result's last item score are null
    for name in _FIELDS:  # past the end every field is null; before it, none may be
        if ((field[name] >= 0) != present).any():
            return None
    code, version, score, answered = (field[name][present] for name in ("item_id", "version", "score", "answered"))
    number = code % 10_000
    if (code // 10_000 != unit.number).any() or ((version < 1) | (version >= unit.marks.shape[1])).any():
        return None
    item = unit.by_number[number]
    if (item < 0).any():
        return None
    marks = unit.marks[item, version]  # -1: no such version stored
    if ((score > marks) | (answered > 1)).any():
        return None
    sittings = np.array([row[0] for row in rows], dtype=np.int64)
    return _Cells(
        sitting=np.repeat(sittings, present.sum(axis=1)), position=position[present], item=item, version=version,
        score=score.astype(np.float64), answered=answered == 1, result_sitting=sittings,
        marked_at=[row[1] for row in rows], failed_hurdles=[row[2] for row in rows],
    )


def _sqlite_answers(engine: Engine, sitting_ids: np.ndarray) -> list[_Answers]:
    """Single-response answers: JSON strings (the other types' are lists or mappings), which one
    comparison finds without decoding anything."""
    statement = (
        "SELECT sitting_id, count(*), group_concat(position, ' '), group_concat(response, ' ') FROM responses "
        "WHERE sitting_id IN (SELECT value FROM json_each(?)) AND response >= '\"' AND response < '#' GROUP BY sitting_id"
    )
    parts = []
    with _sqlite_snapshot(engine) as cursor:
        for at in range(0, len(sitting_ids), _CHUNK):
            chunk = sitting_ids[at : at + _CHUNK]
            parsed = _parse_answers(cursor.execute(statement, (json.dumps(chunk.tolist()),)).fetchall())
            if parsed is None:
                with _reading(engine) as read:
                    parsed = _portable_answers(read, chunk)
            parts.append(parsed)
    return parts


def _whole_numbers(text: str | bytes, expected: int) -> np.ndarray | None:
    """The whole numbers in `text` (separated by spaces), or None unless that is all there is
    and there are `expected` of them."""
    if not text.strip():
        return np.zeros(0, dtype=np.int64) if expected == 0 else None
    try:
        # A token that is not a whole number: numpy 2 raises ValueError, older ones warn and stop.
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            values = np.fromstring(text, dtype=np.int64, sep=" ")
    except (ValueError, DeprecationWarning):
        return None
    return values if values.size == expected else None


def _parse_answers(rows: Sequence[Any]) -> _Answers | None:
    """From (sitting, count, positions, JSON strings) rows; None when a string holds a space."""
    counts = np.array([row[1] for row in rows], dtype=np.int64)
    positions = _whole_numbers(" ".join(row[2] for row in rows), int(counts.sum()))
    texts = " ".join(row[3] for row in rows).split(" ") if rows else []
    if positions is None or len(texts) != positions.size:
        return None
    code, distinct = pd.factorize(np.asarray(texts, dtype=object))  # each distinct string decoded once
    return _Answers(
        sitting=np.repeat(np.array([row[0] for row in rows], dtype=np.int64), counts), position=positions,
        code=code.astype(np.int64), options=[str(json.loads(text)) for text in distinct],
    )


def _portable_cells(read: _Reader, unit: _Unit, result_ids: np.ndarray) -> _Cells:
    """Item scores with the JSON decoded in Python: any database, and the tests' reference."""
    r = _table(ResultRecord)
    index = {item_id: i for i, item_id in enumerate(unit.ids)}
    rows = read.rows(
        select(r.c.sitting_id, r.c.item_scores, r.c.marked_at, r.c.failed_hurdles)
        .where(r.c.id.in_([int(i) for i in result_ids]))
        .order_by(r.c.id)
    )
    cells: list[tuple[int, int, int, int, float, bool]] = []
    for sitting_id, item_scores, _, _ in rows:
        for cell in _json(item_scores):
            if cell["item_id"] not in index:
                raise LookupError(f"sitting {sitting_id} was marked on item {cell['item_id']}, which is not stored")
            cells.append((sitting_id, int(cell["position"]), index[cell["item_id"]], int(cell["version"]),
                          float(cell["score"]), bool(cell["answered"])))
    c = list(zip(*cells)) or [()] * 6
    return _Cells(
        sitting=np.array(c[0], dtype=np.int64), position=np.array(c[1], dtype=np.int64), item=np.array(c[2], dtype=np.int64),
        version=np.array(c[3], dtype=np.int64), score=np.array(c[4], dtype=np.float64), answered=np.array(c[5], dtype=bool),
        result_sitting=np.array([row[0] for row in rows], dtype=np.int64), marked_at=[row[2] for row in rows],
        failed_hurdles=[row[3] for row in rows],
    )


def _portable_answers(read: _Reader, sitting_ids: np.ndarray) -> _Answers:
    a = _table(ResponseRecord)
    answers: list[tuple[int, int, str]] = []
    for sitting_id, at, response in read.rows(
        select(a.c.sitting_id, a.c.position, a.c.response).where(a.c.sitting_id.in_([int(s) for s in sitting_ids]))
    ):
        # The raw SQLite driver gives the JSON text; SQLAlchemy has decoded it already.
        value = json.loads(response) if read.cursor is not None and response is not None else response
        if isinstance(value, str):
            answers.append((sitting_id, at, value))
    code, distinct = pd.factorize(pd.Series([answer[2] for answer in answers], dtype=object))
    return _Answers(
        sitting=np.array([answer[0] for answer in answers], dtype=np.int64),
        position=np.array([answer[1] for answer in answers], dtype=np.int64),
        code=np.asarray(code, dtype=np.int64), options=[str(option) for option in distinct],
    )


def _join_cells(parts: list[_Cells]) -> _Cells:
    def cat(name: str, dtype: Any) -> np.ndarray:
        arrays = [getattr(p, name) for p in parts]
        return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype=dtype)

    return _Cells(
        sitting=cat("sitting", np.int64), position=cat("position", np.int64), item=cat("item", np.int64),
        version=cat("version", np.int64), score=cat("score", np.float64), answered=cat("answered", bool),
        result_sitting=cat("result_sitting", np.int64), marked_at=[v for p in parts for v in p.marked_at],
        failed_hurdles=[v for p in parts for v in p.failed_hurdles],
    )


def _join_answers(parts: list[_Answers]) -> _Answers:
    """One list of option ids for all chunks, each chunk's codes renumbered into it."""
    options: dict[str, int] = {}
    codes = []
    for p in parts:
        renumber = np.array([options.setdefault(option, len(options)) for option in p.options], dtype=np.int64)
        codes.append(renumber[p.code] if len(p.code) else np.zeros(0, dtype=np.int64))

    def cat(arrays: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(arrays).astype(np.int64, copy=False) if arrays else np.zeros(0, dtype=np.int64)

    return _Answers(cat([p.sitting for p in parts]), cat([p.position for p in parts]), cat(codes), list(options))


# ---------------------------------------------------------------------------------------------
# The matrices


def _assemble(
    unit: _Unit,
    head: pd.DataFrame,
    first: dict[int, Any],
    cells: _Cells,
    answers: _Answers,
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
    hurdles[at] = [() if value in ("[]", []) else tuple(_json(value)) for value in cells.failed_hurdles]
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
    cells: _Cells, answers: _Answers, n: int, row: np.ndarray, col: np.ndarray, row_of: np.ndarray, single: np.ndarray,
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
