"""Flags on item statistics, and the thresholds analysts set for them (reports/analysis.yaml).

    HARD             p < hard                      EASY        p > easy
    LOW_DISC         r_item_rest < low_disc        NEG_DISC    r_item_rest <= neg_disc
    KEY_CHECK        a distractor with option-rest r > key_check_r, or above the key's, or chosen
                     more than the key by the upper group: a probable miskey or ambiguity
    WEAK_DISTRACTOR  a distractor chosen by fewer than weak_distractor
    ALPHA_UP         alpha_if_deleted > alpha + alpha_up
    SMALL_N          fewer candidates than min_n_corr (correlation-based flags not judged)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from testengine.domain.problems import DataError, Problem, Source

FLAG_ORDER = ("HARD", "EASY", "LOW_DISC", "NEG_DISC", "KEY_CHECK", "WEAK_DISTRACTOR", "ALPHA_UP", "SMALL_N")
BLANK = ""  # a blank answer's option label: its own row, never a distractor


_RANGES: dict[str, tuple[float, float, str]] = {
    "hard": (0.0, 1.0, "a number from 0 to 1"),
    "easy": (0.0, 1.0, "a number from 0 to 1"),
    "low_disc": (-1.0, 1.0, "a number from -1 to 1"),
    "neg_disc": (-1.0, 1.0, "a number from -1 to 1"),
    "key_check_r": (-1.0, 1.0, "a number from -1 to 1"),
    "weak_distractor": (0.0, 1.0, "a number from 0 to 1"),
    "alpha_up": (0.0, 1.0, "a number from 0 to 1"),
    "min_n_p": (1, math.inf, "a whole number of at least 1"),
    "min_n_corr": (3, math.inf, "a whole number of at least 3"),
    # Groups of more than half would overlap.
    "upper_lower_share": (0.01, 0.5, "a number from 0.01 to 0.5"),
}
_WHOLE = {"min_n_p", "min_n_corr"}


@dataclass(frozen=True)
class Thresholds:
    """Every flag threshold and minimum sample size; defaults from the psychometrics guide."""

    hard: float = 0.20  # HARD when p < hard
    easy: float = 0.90  # EASY when p > easy
    low_disc: float = 0.20  # LOW_DISC when r_item_rest < low_disc
    neg_disc: float = 0.0  # NEG_DISC when r_item_rest <= neg_disc
    key_check_r: float = 0.0  # KEY_CHECK when a distractor's option-rest r > key_check_r
    weak_distractor: float = 0.05  # WEAK_DISTRACTOR when a distractor's proportion < weak_distractor
    alpha_up: float = 0.01  # ALPHA_UP when alpha_if_deleted > alpha + alpha_up
    min_n_p: int = 30  # candidates presented before p-based flags are judged
    min_n_corr: int = 100  # candidates presented before correlation-based flags are judged
    upper_lower_share: float = 0.27  # share of candidates in each of the upper and lower groups

    def __post_init__(self) -> None:
        problems = _threshold_problems({f.name: getattr(self, f.name) for f in fields(self)}, None)
        if problems:
            raise DataError(problems)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], source: Source | None = None) -> Thresholds:
        """Thresholds from parsed settings (a YAML mapping); unset keys keep their defaults.

        Raises DataError naming every unknown key and every value out of range, not only the first.
        """
        known = {f.name for f in fields(cls)}
        problems = [
            Problem.at(source, f"unknown threshold {key!r}; known: {', '.join(sorted(known))}")
            for key in values
            if key not in known
        ]
        chosen = {key: value for key, value in values.items() if key in known}
        problems += _threshold_problems({**{f.name: f.default for f in fields(cls)}, **chosen}, source)
        if problems:
            raise DataError(problems)
        return cls(**chosen)


def _threshold_problems(values: Mapping[str, Any], source: Source | None) -> list[Problem]:
    problems = []
    for key, (low, high, wanted) in _RANGES.items():
        value = values[key]
        # bool is an int to Python, never a threshold; YAML "yes" would otherwise read as 1.
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        if key in _WHOLE:
            numeric = numeric and isinstance(value, int)
        if not numeric or not low <= value <= high:
            problems.append(Problem.at(source, f"threshold {key!r} must be {wanted}, not {value!r}"))
    hard, easy = values["hard"], values["easy"]
    if not problems and hard >= easy:
        problems.append(Problem.at(source, f"threshold 'hard' ({hard}) must be below 'easy' ({easy})"))
    return problems


DEFAULT_THRESHOLDS = Thresholds()


def flag_items(
    items: pd.DataFrame,
    options: pd.DataFrame | None = None,
    *,
    alpha: float = math.nan,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> pd.Series:
    """The flags of each item row, joined by ";" in FLAG_ORDER ("" for none).

    items: item_statistics() columns (item, n, p, r_item_rest, alpha_if_deleted).
    options: option_statistics() rows, for KEY_CHECK and WEAK_DISTRACTOR; without it those two
    are not judged. alpha: the form's alpha, for ALPHA_UP (NaN: not judged).
    """
    t = thresholds
    by_item: dict[Any, pd.DataFrame] = {}
    if options is not None and len(options):
        by_item = {key: rows for key, rows in options.groupby("item", sort=False)}
    column = {name: items[name].to_numpy(dtype=np.float64) for name in ("n", "p", "r_item_rest", "alpha_if_deleted")}
    flags = []
    for at, item in enumerate(items["item"].tolist()):
        n, p, r = column["n"][at], column["p"][at], column["r_item_rest"][at]
        # NaN compares false, so a figure that could not be computed raises no flag.
        raised = set()
        if n >= t.min_n_p:
            raised |= {"HARD"} if p < t.hard else set()
            raised |= {"EASY"} if p > t.easy else set()
        if n >= t.min_n_corr:
            raised |= {"LOW_DISC"} if r < t.low_disc else set()
            raised |= {"NEG_DISC"} if r <= t.neg_disc else set()
            raised |= {"ALPHA_UP"} if column["alpha_if_deleted"][at] > alpha + t.alpha_up else set()
        else:
            raised.add("SMALL_N")
        rows = by_item.get(item)
        if rows is not None:
            distractors = rows[~rows["is_key"].astype(bool) & (rows["option"] != BLANK)]
            if n >= t.min_n_p and bool((distractors["proportion"] < t.weak_distractor).any()):
                raised.add("WEAK_DISTRACTOR")
            if n >= t.min_n_corr and _key_doubtful(rows, distractors, t):
                raised.add("KEY_CHECK")
        flags.append(";".join(f for f in FLAG_ORDER if f in raised))
    return pd.Series(flags, index=items.index)


def _key_doubtful(rows: pd.DataFrame, distractors: pd.DataFrame, t: Thresholds) -> bool:
    """A distractor with option-rest r > key_check_r, or above the key's, or more popular upstairs."""
    if bool((distractors["r_option_rest"] > t.key_check_r).any()):
        return True
    keyed = rows[rows["is_key"].astype(bool)]
    if keyed.empty:
        return False
    key_r = float(keyed["r_option_rest"].max())
    key_upper = float(keyed["p_upper"].max())
    return bool((distractors["r_option_rest"] > key_r).any() or (distractors["p_upper"] > key_upper).any())
