"""Reading a unit's stored item scores and single-response answers as flat arrays (Cells,
Answers), from which response_data builds its matrices.

Speed. 100,000 sittings hold 3 million item scores as JSON in results.item_scores; json.loads
alone would take about 6 s, so on SQLite the database decodes them and Python only parses
numbers (see sqlite_cells): about 2.5 s for 100,000 results on the reference machine. The
single-response answers are read beside it on a second connection, by a second thread: the
SQLite library releases the GIL while a statement runs. (Two threads decoding JSON at once are
slower than one: SQLite's allocator takes a process-wide lock.) Every read is a plain deferred
transaction on a raw connection, not the engine's BEGIN IMMEDIATE, so a long read never holds
up the writer (WAL). The second connection is given the result ids of the first one's snapshot;
results and the answers of a marked sitting never change, so both read the same rows.

Other databases, or method="portable", take the portable path (portable_cells,
portable_answers): the same rows, JSON decoded by the driver, in Python. The tests check that
both paths give the same frames.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Table, select
from sqlalchemy.engine import Engine

from testengine.domain.items import Item
from testengine.storage.item_records import item_from_json
from testengine.storage.tables import ItemVersionRecord, ResponseRecord, ResultRecord

_FIELDS = ("position", "item_id", "version", "score", "answered")
CHUNK = 12_500  # results per statement: big enough to amortise it, small enough to keep memory flat


@dataclass
class Cells:
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
class Answers:
    """One entry per single-response answer stored."""

    sitting: np.ndarray
    position: np.ndarray
    code: np.ndarray  # index into options
    options: list[str]


@dataclass(frozen=True)
class StoredUnit:
    """The unit's stored item versions, and the numbering of its item ids."""

    number: int
    versions: dict[tuple[str, int], Item]
    ids: list[str]  # sorted; Cells.item indexes it
    by_number: np.ndarray | None  # 4-digit id number -> index into ids, when every id is U<unit>-<4 digits>
    marks: np.ndarray  # [index into ids, version] -> the version's marks, -1 where no such version


class Reader:
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
def reading(engine: Engine) -> Iterator[Reader]:
    if engine.dialect.name == "sqlite":
        with _sqlite_snapshot(engine) as cursor:
            yield Reader(engine, cursor, None)
    else:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                yield Reader(engine, None, connection)


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


def table(record: Any) -> Table:
    found: Table = record.__table__
    return found


def decode_json(value: Any) -> Any:
    """A JSON column: text from the raw SQLite driver, already decoded from SQLAlchemy."""
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def stored_unit(read: Reader, unit: int) -> StoredUnit:
    v = table(ItemVersionRecord)
    rows = read.rows(select(v.c.item_id, v.c.version, v.c.content).where(v.c.unit == unit))
    versions = {(item_id, version): item_from_json(decode_json(content)) for item_id, version, content in rows}
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
    return StoredUnit(unit, versions, ids, by_number, marks)


def sqlite_cells(engine: Engine, unit: StoredUnit, result_ids: np.ndarray, width: int) -> list[Cells]:
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
        for at in range(0, len(result_ids), CHUNK):
            chunk = result_ids[at : at + CHUNK]
            parsed = None
            if unit.by_number is not None and blocks:
                parsed = _parse_cells(cursor.execute(statement, (json.dumps(chunk.tolist()),)).fetchall(), unit, blocks)
            if parsed is None:
                with reading(engine) as read:
                    parsed = portable_cells(read, unit, chunk)
            parts.append(parsed)
    return parts


# JSON arrays -> whole numbers, one byte at a time (bytes.translate is a table lookup):
# [3,null,true,false,"U2-0042"] -> 3 -1 1 0 20042. Brackets and commas become spaces; quotes, the
# id's U and dash go; of the words only t/r/e, f/a/l/s/e and n/u/l/l's letters remain as 1, 0
# and -1 (u is 1 in true and in null: "-1"). Anything else stops numpy's parser and the count
# check catches it; an id outside the rule U<unit>-<4 digits> fails the unit check.
_NUMBERS = bytes.maketrans(b"[],nuf", b"   -10")
_DROPPED = b'"U-treals'


def _parse_cells(rows: Sequence[Any], unit: StoredUnit, blocks: list[range]) -> Cells | None:
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
    return Cells(
        sitting=np.repeat(sittings, present.sum(axis=1)), position=position[present], item=item, version=version,
        score=score.astype(np.float64), answered=answered == 1, result_sitting=sittings,
        marked_at=[row[1] for row in rows], failed_hurdles=[row[2] for row in rows],
    )


def sqlite_answers(engine: Engine, sitting_ids: np.ndarray) -> list[Answers]:
    """Single-response answers: JSON strings (the other types' are lists or mappings), which one
    comparison finds without decoding anything."""
    statement = (
        "SELECT sitting_id, count(*), group_concat(position, ' '), group_concat(response, ' ') FROM responses "
        "WHERE sitting_id IN (SELECT value FROM json_each(?)) AND response >= '\"' AND response < '#' GROUP BY sitting_id"
    )
    parts = []
    with _sqlite_snapshot(engine) as cursor:
        for at in range(0, len(sitting_ids), CHUNK):
            chunk = sitting_ids[at : at + CHUNK]
            parsed = _parse_answers(cursor.execute(statement, (json.dumps(chunk.tolist()),)).fetchall())
            if parsed is None:
                with reading(engine) as read:
                    parsed = portable_answers(read, chunk)
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


def _parse_answers(rows: Sequence[Any]) -> Answers | None:
    """From (sitting, count, positions, JSON strings) rows; None when a string holds a space."""
    counts = np.array([row[1] for row in rows], dtype=np.int64)
    positions = _whole_numbers(" ".join(row[2] for row in rows), int(counts.sum()))
    texts = " ".join(row[3] for row in rows).split(" ") if rows else []
    if positions is None or len(texts) != positions.size:
        return None
    code, distinct = pd.factorize(np.asarray(texts, dtype=object))  # each distinct string decoded once
    return Answers(
        sitting=np.repeat(np.array([row[0] for row in rows], dtype=np.int64), counts), position=positions,
        code=code.astype(np.int64), options=[str(json.loads(text)) for text in distinct],
    )


def portable_cells(read: Reader, unit: StoredUnit, result_ids: np.ndarray) -> Cells:
    """Item scores with the JSON decoded in Python: any database, and the tests' reference."""
    r = table(ResultRecord)
    index = {item_id: i for i, item_id in enumerate(unit.ids)}
    rows = read.rows(
        select(r.c.sitting_id, r.c.item_scores, r.c.marked_at, r.c.failed_hurdles)
        .where(r.c.id.in_([int(i) for i in result_ids]))
        .order_by(r.c.id)
    )
    cells: list[tuple[int, int, int, int, float, bool]] = []
    for sitting_id, item_scores, _, _ in rows:
        for cell in decode_json(item_scores):
            if cell["item_id"] not in index:
                raise LookupError(f"sitting {sitting_id} was marked on item {cell['item_id']}, which is not stored")
            cells.append((sitting_id, int(cell["position"]), index[cell["item_id"]], int(cell["version"]),
                          float(cell["score"]), bool(cell["answered"])))
    c = list(zip(*cells)) or [()] * 6
    return Cells(
        sitting=np.array(c[0], dtype=np.int64), position=np.array(c[1], dtype=np.int64), item=np.array(c[2], dtype=np.int64),
        version=np.array(c[3], dtype=np.int64), score=np.array(c[4], dtype=np.float64), answered=np.array(c[5], dtype=bool),
        result_sitting=np.array([row[0] for row in rows], dtype=np.int64), marked_at=[row[2] for row in rows],
        failed_hurdles=[row[3] for row in rows],
    )


def portable_answers(read: Reader, sitting_ids: np.ndarray) -> Answers:
    a = table(ResponseRecord)
    answers: list[tuple[int, int, str]] = []
    for sitting_id, at, response in read.rows(
        select(a.c.sitting_id, a.c.position, a.c.response).where(a.c.sitting_id.in_([int(s) for s in sitting_ids]))
    ):
        # The raw SQLite driver gives the JSON text; SQLAlchemy has decoded it already.
        value = json.loads(response) if read.cursor is not None and response is not None else response
        if isinstance(value, str):
            answers.append((sitting_id, at, value))
    code, distinct = pd.factorize(pd.Series([answer[2] for answer in answers], dtype=object))
    return Answers(
        sitting=np.array([answer[0] for answer in answers], dtype=np.int64),
        position=np.array([answer[1] for answer in answers], dtype=np.int64),
        code=np.asarray(code, dtype=np.int64), options=[str(option) for option in distinct],
    )


def join_cells(parts: list[Cells]) -> Cells:
    def cat(name: str, dtype: Any) -> np.ndarray:
        arrays = [getattr(p, name) for p in parts]
        return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype=dtype)

    return Cells(
        sitting=cat("sitting", np.int64), position=cat("position", np.int64), item=cat("item", np.int64),
        version=cat("version", np.int64), score=cat("score", np.float64), answered=cat("answered", bool),
        result_sitting=cat("result_sitting", np.int64), marked_at=[v for p in parts for v in p.marked_at],
        failed_hurdles=[v for p in parts for v in p.failed_hurdles],
    )


def join_answers(parts: list[Answers]) -> Answers:
    """One list of option ids for all chunks, each chunk's codes renumbered into it."""
    options: dict[str, int] = {}
    codes = []
    for p in parts:
        renumber = np.array([options.setdefault(option, len(options)) for option in p.options], dtype=np.int64)
        codes.append(renumber[p.code] if len(p.code) else np.zeros(0, dtype=np.int64))

    def cat(arrays: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(arrays).astype(np.int64, copy=False) if arrays else np.zeros(0, dtype=np.int64)

    return Answers(cat([p.sitting for p in parts]), cat([p.position for p in parts]), cat(codes), list(options))
