"""Items written in a spreadsheet (Excel .xlsx or CSV): one row per item, documented columns.

    type              single, multiple, ordering or matching
    learning_outcome  the learning outcome's number
    criterion         the AC, e.g. 1.2
    amplification     the amplification point's id (as on the coverage page)
    stem              the question
    option_a .. option_h    the options (ids a..h); leave the unused ones empty
    premise_1 .. premise_6  matching only: the terms to match (ids p1..p6)
    key               single: b; multiple: a, c; ordering: c, a, d, b; matching: p1=a, p2=c
    marks, scoring (all_or_nothing or partial), expected_seconds, facility, angoff,
    rationale, author
    optional: cognitive_level, enemies (ids separated by commas), item_set, fixed_option_order (yes/no)

Rows are numbered as the spreadsheet numbers them (the header is row 1).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from testengine.domain.problems import DataError, Problem
from testengine.storage.yaml_documents import display_path

OPTION_COLUMNS = tuple(f"option_{letter}" for letter in "abcdefgh")
PREMISE_COLUMNS = tuple(f"premise_{n}" for n in range(1, 7))
REQUIRED = ("type", "learning_outcome", "criterion", "amplification", "stem", "key", "marks", "expected_seconds", "facility",
            "angoff", "rationale", "author")
OPTIONAL = ("scoring", "cognitive_level", "enemies", "item_set", "fixed_option_order", "id")
COLUMNS = (*REQUIRED, *OPTION_COLUMNS, *PREMISE_COLUMNS, *OPTIONAL)


def read_item_sheet(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(row number, cells by column name) for every row that is not empty; DataError for a
    file that cannot be read, has no rows, or lacks or misspells columns."""
    name = display_path(path)
    try:
        rows = _xlsx_rows(path) if path.suffix.lower() == ".xlsx" else _csv_rows(path)
    except (OSError, UnicodeDecodeError, ValueError, KeyError) as exc:
        raise DataError([Problem(reason=f"cannot read the spreadsheet: {exc}", file=name)]) from exc
    if not rows:
        raise DataError([Problem(reason="the spreadsheet is empty", file=name)])
    header = [str(h or "").strip().lower() for h in rows[0]]
    problems = [Problem(reason=f"column {c!r} is missing", file=name, line=1) for c in REQUIRED if c not in header]
    problems += [
        Problem(reason=f"column {h!r} (column {n}) is not one of the documented columns", file=name, line=1)
        for n, h in enumerate(header, start=1) if h and h not in COLUMNS
    ]
    if problems:
        raise DataError(problems)
    found = []
    for number, cells in enumerate(rows[1:], start=2):
        values = {h: _text(cells[i]) if i < len(cells) else "" for i, h in enumerate(header) if h}
        if any(values.values()):
            found.append((number, values))
    if not found:
        raise DataError([Problem(reason="the spreadsheet has a header but no items", file=name)])
    return found


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _xlsx_rows(path: Path) -> list[list[Any]]:
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _csv_rows(path: Path) -> list[list[Any]]:
    text = path.read_text(encoding="utf-8-sig")
    return [row for row in csv.reader(io.StringIO(text))]
