"""Response data from elsewhere, for `testengine analyse`: a responses CSV, a key CSV and a
groups CSV, checked cell by cell. Every problem names the file, the row and the column.

responses: one row per candidate, one column per item, an optional first column `candidate_id`.
Cells are option labels (or 0/1 with --scored); an empty cell or the omit code is an omission
(scores 0); `NA` means the item was not presented (missing, never 0).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from testengine.domain.problems import DataError, Problem

NOT_PRESENTED = "NA"
MAX_PROBLEMS = 50


def _rows(path: Path) -> list[list[str]]:
    name = str(path)
    if not path.exists():
        raise DataError([Problem(reason="no such file", file=name)])
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            # Blank lines are skipped; a row of empty cells is a candidate who omitted everything.
            rows = [row for row in csv.reader(handle) if row]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError([Problem(reason=f"not a readable UTF-8 CSV file ({exc})", file=name)]) from exc
    if not rows:
        raise DataError([Problem(reason="the file is empty", file=name)])
    return rows


def read_responses(path: Path, scored: bool = False, omit_code: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The raw cells as strings (None = not presented, "" = omitted), and the omitted mask."""
    rows = _rows(path)
    name = str(path)
    header = [h.strip() for h in rows[0]]
    has_ids = bool(header) and header[0].lower() == "candidate_id"
    items = header[1:] if has_ids else header
    problems: list[Problem] = []
    if not items:
        problems.append(Problem(reason="the header names no items", file=name, line=1))
    seen: set[str] = set()
    for column, item in enumerate(items, start=2 if has_ids else 1):
        if not item:
            problems.append(Problem(reason=f"column {column} has no item name in the header", file=name, line=1))
        elif item in seen:
            problems.append(Problem(reason=f"column {column}: item {item!r} appears twice in the header", file=name, line=1))
        seen.add(item)
    if len(rows) < 2:
        problems.append(Problem(reason="there are no candidates' rows after the header", file=name, line=1))
    ids: list[str] = []
    cells: list[list[str | None]] = []
    omitted: list[list[bool]] = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            problems.append(Problem(reason=f"row has {len(row)} cells, the header has {len(header)} (ragged row)", file=name, line=line))
            continue
        candidate = row[0].strip() if has_ids else str(line - 1)
        if has_ids and not candidate:
            problems.append(Problem(reason="column candidate_id is empty", file=name, line=line))
        elif candidate in ids:
            problems.append(Problem(reason=f"candidate_id {candidate!r} appears twice", file=name, line=line))
        ids.append(candidate)
        values: list[str | None] = []
        blanks: list[bool] = []
        for item, raw in zip(items, row[1:] if has_ids else row, strict=True):
            value = raw.strip()
            if value == NOT_PRESENTED:
                values.append(None)
                blanks.append(False)
            elif value == "" or (omit_code is not None and value == omit_code):
                values.append("")
                blanks.append(True)
            else:
                if scored and value not in ("0", "1"):
                    problems.append(Problem(reason=f"column {item!r}: {value!r} is not 0, 1, empty or NA (--scored)", file=name, line=line))
                values.append(value)
                blanks.append(False)
        cells.append(values)
        omitted.append(blanks)
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise DataError(problems[:MAX_PROBLEMS])
    return pd.DataFrame(cells, index=pd.Index(ids, name="candidate_id"), columns=items), pd.DataFrame(
        omitted, index=pd.Index(ids, name="candidate_id"), columns=items
    )


def read_key(path: Path, cells: pd.DataFrame) -> dict[str, str]:
    """Columns item,key. Every item of the responses needs a key; a keyed item must exist; a
    key must be an option someone could choose (one seen in the responses)."""
    rows = _rows(path)
    name = str(path)
    header = [h.strip().lower() for h in rows[0]]
    if header[:2] != ["item", "key"]:
        raise DataError([Problem(reason=f"the header must be item,key (found {','.join(rows[0])})", file=name, line=1)])
    problems: list[Problem] = []
    keys: dict[str, str] = {}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) < 2:
            problems.append(Problem(reason="a row needs an item and its key", file=name, line=line))
            continue
        item, key = row[0].strip(), row[1].strip()
        if item not in cells.columns:
            problems.append(Problem(reason=f"item {item!r} is not a column of the responses file", file=name, line=line))
        elif item in keys:
            problems.append(Problem(reason=f"item {item!r} is keyed twice", file=name, line=line))
        elif not key:
            problems.append(Problem(reason=f"item {item!r} has an empty key", file=name, line=line))
        else:
            offered = set(cells[item].dropna()) - {""}
            if offered and key not in offered:
                problems.append(Problem(
                    reason=f"item {item!r}: key {key!r} is not an option anyone chose (seen: {', '.join(sorted(offered))}); check the key",
                    file=name, line=line))
            keys[item] = key
    missing = [i for i in cells.columns if i not in keys]
    if missing and not problems:
        problems.append(Problem(reason=f"no key for item(s) {', '.join(missing)}", file=name))
    if problems:
        raise DataError(problems[:MAX_PROBLEMS])
    return keys


def read_groups(path: Path, candidates: pd.Index) -> dict[str, str]:
    """Columns candidate_id,group: the groups for DIF."""
    rows = _rows(path)
    name = str(path)
    header = [h.strip().lower() for h in rows[0]]
    if header[:2] != ["candidate_id", "group"]:
        raise DataError([Problem(reason=f"the header must be candidate_id,group (found {','.join(rows[0])})", file=name, line=1)])
    problems: list[Problem] = []
    groups: dict[str, str] = {}
    known = set(candidates)
    for line, row in enumerate(rows[1:], start=2):
        if len(row) < 2 or not row[0].strip():
            problems.append(Problem(reason="a row needs a candidate_id and a group", file=name, line=line))
            continue
        candidate, group = row[0].strip(), row[1].strip()
        if candidate not in known:
            problems.append(Problem(reason=f"candidate_id {candidate!r} is not in the responses file", file=name, line=line))
        elif candidate in groups:
            problems.append(Problem(reason=f"candidate_id {candidate!r} appears twice", file=name, line=line))
        else:
            groups[candidate] = group
    if problems:
        raise DataError(problems[:MAX_PROBLEMS])
    return groups


def score(cells: pd.DataFrame, keys: dict[str, str] | None) -> pd.DataFrame:
    """Marks: 1 for the key (or a "1" with --scored), 0 otherwise; NaN where not presented."""
    presented = cells.notna()
    if keys is None:
        marks = (cells == "1").astype(float)
    else:
        marks = pd.DataFrame({item: (cells[item] == keys[item]).astype(float) for item in cells.columns}, index=cells.index)
    return marks.where(presented)
