"""Classical test theory: item, option (distractor) and test statistics on a response matrix.

Definitions and names follow shared/docs/psychometrics.md, which follows R:

    facility p          mean mark / max mark                         (Moodle facility index)
    r_item_total        Pearson r(item, total)                       (psych raw.r)
    r_item_rest         Pearson r(item, total - item)                (psych r.drop, CTT pBis)
    alpha               k/(k-1) (1 - sum var_i / var_total)          (psych raw_alpha; KR-20 for 0/1)
    alpha_if_deleted    alpha of the other k-1 items                 (psych alpha.drop raw_alpha)
    D                   p(upper 27%) - p(lower 27%)                  (Kelley 1939; Ebel bands)
    disc_efficiency     100 cov(item, rest) / cov(sorted item, sorted rest)   (Moodle)
    r_option_rest       Pearson r(chose option, total - option's score)       (CTT distractorAnalysis pBis)

Input is a matrix of marks, candidates by items: NaN means the item was never presented, which
is not 0; an item presented and left blank scores 0 and counts in the omit rate. With on-demand
forms every candidate sits different items, so totals and rest scores are proportions of the
marks of the candidate's own form: on a fixed form that is a constant factor, and every
correlation equals the classical one. Everything is computed on the presented cells in long
form (one entry per candidate and item) with grouped sums, so the cost grows with the cells
presented, not with candidates x pool; loops run over items only.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from testengine.psychometrics.item_flags import BLANK, DEFAULT_THRESHOLDS, Thresholds, flag_items

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.intp]
Bools = npt.NDArray[np.bool_]

ITEM_COLUMNS = (
    "item", "n", "omit_rate", "p", "sd", "r_item_total", "r_item_rest", "alpha_if_deleted",
    "d_upper_lower", "disc_efficiency", "flags",
)
OPTION_COLUMNS = ("item", "option", "is_key", "n", "proportion", "r_option_rest", "p_upper", "p_lower")

CONVENTIONS: list[str] = [
    "An item never presented to a candidate is missing, not 0; an item presented and left blank scores 0 "
    "and counts in the item's omit rate (omitted / presented).",
    "Variances, SDs and covariances use n - 1.",
    "Facility p = mean mark / max mark; item SD is the SD of the item's marks.",
    "Totals and rest scores are proportions of the marks of the candidate's own form: rest = (marks on the "
    "other items presented) / (max marks of those items). On a fixed form this gives exactly the classical "
    "item-total and item-rest correlations (psych raw.r and r.drop, CTT pBis).",
    "Upper and lower groups (Kelley): candidates are put in one order, by proportion of marks on their own "
    "form and then by candidate id; among the N presented an item, the last round(0.27 N) in that order are "
    "the upper group and the first round(0.27 N) the lower group (halves round up), so ties at a group's "
    "edge go by candidate id. D = p(upper) - p(lower).",
    "Discriminative efficiency (Moodle) = 100 cov(item, rest) / cov(item sorted, rest sorted).",
    "Cronbach's alpha (KR-20 for 0/1 items), alpha if deleted and the SEM = SD sqrt(1 - alpha) are given "
    "only for a fixed form (every candidate presented every item), on raw marks.",
    "Option-rest r = Pearson r(chose the option, total minus the marks the option would earn if keyed), as "
    "CTT distractorAnalysis pBis; a blank answer is its own row and is not a distractor.",
    "Proportion choosing an option is out of the candidates presented the item, blanks included.",
    "Flags need a minimum number of candidates presented: p-based ones (HARD, EASY, WEAK_DISTRACTOR) "
    "min_n_p, correlation-based ones (LOW_DISC, NEG_DISC, KEY_CHECK, ALPHA_UP) min_n_corr; SMALL_N marks "
    "an item below min_n_corr, whose correlation-based flags were not judged.",
]


# ---------------------------------------------------------------------------------------------
# The response matrix in long form


@dataclass(frozen=True, eq=False)
class Responses:
    """A response matrix prepared once (see prepare()): the presented cells, sorted by item and
    then by candidate position. item_statistics, option_statistics and test_statistics take it
    in place of the scores frame, so that several of them on the same data share the work."""

    items: Sequence[Hashable]
    candidates: pd.Index
    maxima: Floats  # per item
    item: Ints  # per cell: item position
    cand: Ints  # per cell: candidate position
    mark: Floats
    omitted: Bools
    starts: Ints  # cells of item j are starts[j]:starts[j + 1]
    total: Floats  # per candidate: marks on their own form
    form_max: Floats  # per candidate: max marks of their own form
    fixed_form: bool  # every candidate was presented every item
    _groups: dict[float, tuple[Bools, Bools, Ints]] = field(default_factory=dict, repr=False)

    @property
    def proportion(self) -> Floats:
        return _ratio(self.total, self.form_max)


def prepare(
    scores: pd.DataFrame, max_marks: Mapping[Hashable, float] | None = None, omitted: pd.DataFrame | None = None
) -> Responses:
    """The matrix in long form, checked: scores, max_marks and omitted as for item_statistics."""
    if not scores.index.is_unique:
        raise ValueError("candidate ids (the scores' index) are not unique")
    if not scores.columns.is_unique:
        raise ValueError("item ids (the scores' columns) are not unique")
    items = list(scores.columns)
    maxima = np.array([float(max_marks[i]) if max_marks is not None and i in max_marks else 1.0 for i in items])
    bad = [str(i) for i, m in zip(items, maxima) if not (math.isfinite(m) and m > 0)]
    if bad:
        raise ValueError(f"max marks must be positive: {', '.join(bad[:10])}")
    n_cand, n_items = scores.shape
    x = scores.to_numpy(dtype=np.float64, na_value=np.nan)  # a view when the frame is one float block
    # eq(True): cells missing from the omitted frame (or NA in it) are not omissions.
    if omitted is None:
        blanks = np.zeros(x.shape, dtype=bool)
    else:
        blanks = omitted.reindex(index=scores.index, columns=scores.columns).eq(True).to_numpy(dtype=bool, na_value=False)
    # Only the presented cells are kept, item by item: the transposed mask's nonzero entries
    # come out sorted by item and then by candidate.
    item, cand = np.nonzero(np.ascontiguousarray((~np.isnan(x) | blanks).T))
    item, cand = item.astype(np.intp), cand.astype(np.intp)
    blank = blanks[cand, item]
    value = x[cand, item]
    clash = np.unique(item[blank & ~np.isnan(value) & (value != 0)])
    if len(clash):
        raise ValueError(f"omitted items must score 0: {', '.join(str(items[j]) for j in clash[:10])}")
    mark = np.where(blank, 0.0, value)
    over = np.unique(item[(mark < 0) | (mark > maxima[item] + 1e-9)])
    if len(over):
        raise ValueError(f"marks outside 0..max marks for items: {', '.join(str(items[j]) for j in over[:10])}")
    counts = np.bincount(item, minlength=n_items).astype(np.intp)
    return Responses(
        items=items,
        candidates=scores.index,
        maxima=maxima,
        item=item,
        cand=cand,
        mark=mark,
        omitted=blank,
        starts=np.concatenate([[0], np.cumsum(counts)]).astype(np.intp),
        total=_sums(cand, mark, n_cand),
        form_max=_sums(cand, maxima[item], n_cand),
        fixed_form=bool(n_cand > 0 and (counts == n_cand).all()),
    )


def _cells(
    scores: pd.DataFrame | Responses, max_marks: Mapping[Hashable, float] | None, omitted: pd.DataFrame | None
) -> Responses:
    if not isinstance(scores, Responses):
        return prepare(scores, max_marks, omitted)
    if max_marks is not None or omitted is not None:
        raise ValueError("max marks and omissions are part of prepared responses: pass them to prepare()")
    return scores


def _sums(group: Ints, weights: Floats | None, size: int) -> Floats:
    """Per group: the sum of the weights, or the count of cells when weights is None."""
    return np.bincount(group, weights=weights, minlength=size).astype(np.float64)


def _ratio(a: Floats, b: Floats) -> Floats:
    """a / b, NaN where b is 0, without a warning (pytest runs with warnings as errors)."""
    out: Floats = np.full(np.shape(a), np.nan)
    np.divide(a, b, out=out, where=b != 0)
    return out


def _grouped_r(group: Ints, x: Floats, y: Floats, weight: Floats, size: int) -> tuple[Floats, Floats]:
    """Pearson r of x and y within each group (cells with weight 1), and the covariance sum.

    Two passes (means, then centred products) so that large groups lose no precision.
    """
    n = _sums(group, weight, size)
    mx = _ratio(_sums(group, weight * x, size), n)
    my = _ratio(_sums(group, weight * y, size), n)
    dx, dy = x - mx[group], y - my[group]
    sxx = _sums(group, weight * dx * dx, size)
    syy = _sums(group, weight * dy * dy, size)
    sxy = _sums(group, weight * dx * dy, size)
    # A constant variable leaves rounding dust, not zero: compare with the raw sum of squares.
    flat = (sxx <= 1e-12 * _sums(group, weight * x * x, size)) | (
        syy <= 1e-12 * _sums(group, weight * y * y, size)
    )
    r = _ratio(sxy, np.sqrt(sxx * syy))
    r[flat | (n < 2)] = np.nan
    return r, sxy


def _group_size(n: Floats | Ints, share: float) -> Ints:
    """round(share N), halves up; rounded to 9 places first so 0.27 * 150 is 40.5, not 40.4999..."""
    return np.floor(np.round(np.asarray(n, dtype=float) * share, 9) + 0.5).astype(np.intp)


def _upper_lower(cells: Responses, share: float) -> tuple[Bools, Bools, Ints]:
    """Per cell: is the candidate in the item's upper group, in its lower group; per item: group size.

    One stable order of candidates, by proportion of marks on their own form and then by
    candidate id; among those presented an item, the last round(share N) in that order are its
    upper group and the first round(share N) its lower group, so the groups never overlap.
    """
    cached = cells._groups.get(share)
    if cached is not None:
        return cached
    n_cand = len(cells.candidates)
    by_id = np.empty(n_cand, dtype=np.int64)
    by_id[np.asarray(cells.candidates.argsort(), dtype=np.intp)] = np.arange(n_cand)
    rank = np.empty(n_cand, dtype=np.int64)
    rank[np.lexsort((by_id, cells.proportion))] = np.arange(n_cand)
    order = np.argsort(cells.item.astype(np.int64) * n_cand + rank[cells.cand])
    item = cells.item[order]
    position = np.arange(len(order)) - cells.starts[item]
    counts = np.diff(cells.starts)
    size = _group_size(counts, share)
    upper = np.zeros(len(order), dtype=bool)
    lower = np.zeros(len(order), dtype=bool)
    upper[order[position >= counts[item] - size[item]]] = True
    lower[order[position < size[item]]] = True
    cells._groups[share] = (upper, lower, size)
    return upper, lower, size


# ---------------------------------------------------------------------------------------------
# Item statistics


def item_statistics(
    scores: pd.DataFrame | Responses,
    max_marks: Mapping[Hashable, float] | None = None,
    omitted: pd.DataFrame | None = None,
    *,
    options: pd.DataFrame | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> pd.DataFrame:
    """One row per item (the scores' columns, in order) with the columns of ITEM_COLUMNS.

    scores: marks, candidates (index: candidate id) by items (columns: item id); NaN = not presented.
    max_marks: per item id, default 1. omitted: True where presented and left blank (scores 0).
    Or scores = prepare(scores, max_marks, omitted), and no max_marks or omitted.
    options: option_statistics() of the same responses, for KEY_CHECK and WEAK_DISTRACTOR.
    Conventions: see CONVENTIONS.
    """
    cells = _cells(scores, max_marks, omitted)
    k = len(cells.items)
    g, c, x = cells.item, cells.cand, cells.mark
    m = cells.maxima[g]
    ones = np.ones(len(x))
    n = _sums(g, None, k)
    mean = _ratio(_sums(g, x, k), n)
    variance = _item_variances(cells)

    r_total, _ = _grouped_r(g, x, cells.proportion[c], ones, k)
    rest_max = cells.form_max[c] - m
    has_rest = rest_max > 0  # a candidate presented one item has no rest score
    rest = np.where(has_rest, cells.total[c] - x, 0.0) / np.where(has_rest, rest_max, 1.0)
    r_rest, cov_rest = _grouped_r(g, x, rest, has_rest.astype(float), k)

    upper, lower, size = _upper_lower(cells, thresholds.upper_lower_share)
    p_upper = _ratio(_sums(g[upper], x[upper], k), size * cells.maxima)
    p_lower = _ratio(_sums(g[lower], x[lower], k), size * cells.maxima)

    alpha, if_deleted = _alpha(cells, np.nan_to_num(variance))
    table = pd.DataFrame(
        {
            "item": list(cells.items),
            "n": n.astype(np.int64),
            "omit_rate": _ratio(_sums(g, cells.omitted.astype(float), k), n),
            "p": mean / cells.maxima,
            "sd": np.sqrt(variance),
            "r_item_total": r_total,
            "r_item_rest": r_rest,
            "alpha_if_deleted": if_deleted,
            "d_upper_lower": p_upper - p_lower,
            "disc_efficiency": 100 * _ratio(cov_rest, _max_covariance(g[has_rest], x[has_rest], rest[has_rest], k)),
        }
    )
    table["flags"] = flag_items(table, options, alpha=alpha, thresholds=thresholds)
    return table


def _max_covariance(group: Ints, x: Floats, y: Floats, size: int) -> Floats:
    """Sum of centred products with x and y each sorted within its group: the most cov(x, y) can be."""
    if len(group) > 1 and (np.diff(group) < 0).any():
        order = np.argsort(group, kind="stable")
        group, x, y = group[order], x[order], y[order]
    n = _sums(group, None, size)
    # The cells are in group order: sorting each group's slice on its own is much faster than
    # one lexsort of them all, and leaves group[i] naming the group of xs[i] and ys[i].
    bounds = np.concatenate([[0], np.cumsum(n)]).astype(np.intp)
    xs, ys = np.empty_like(x), np.empty_like(y)
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        xs[start:stop] = np.sort(x[start:stop])
        ys[start:stop] = np.sort(y[start:stop])
    mx = _ratio(_sums(group, x, size), n)
    my = _ratio(_sums(group, y, size), n)
    most = _sums(group, (xs - mx[group]) * (ys - my[group]), size)
    most[most <= 1e-12 * np.maximum(n, 1)] = np.nan  # a constant item or rest: no efficiency
    return most


def _alpha(cells: Responses, variance: Floats) -> tuple[float, Floats]:
    """Cronbach's alpha on raw marks and alpha without each item; NaN unless a fixed form.

    alpha = k/(k-1) (1 - sum var_i / var_T); without item j the total variance is
    var_T - 2 cov(T, x_j) + var_j, so no k x k covariance matrix is needed.
    """
    k, n = len(cells.items), len(cells.candidates)
    if_deleted = np.full(k, np.nan)
    if not cells.fixed_form or k < 2 or n < 2:
        return math.nan, if_deleted
    total = cells.total
    var_total = float(np.var(total, ddof=1))
    alpha = _cronbach(k, float(variance.sum()), var_total)
    if k >= 3:
        g, x = cells.item, cells.mark
        mean = _sums(g, x, k) / n
        cov = _sums(g, (x - mean[g]) * (total[cells.cand] - total.mean()), k) / (n - 1)
        rest_var = var_total - 2 * cov + variance
        if_deleted = np.array([_cronbach(k - 1, float(variance.sum() - variance[j]), rest_var[j]) for j in range(k)])
    return alpha, if_deleted


def _cronbach(k: int, item_variance: float, total_variance: float) -> float:
    if total_variance <= 0:
        return math.nan
    return k / (k - 1) * (1 - item_variance / total_variance)


# ---------------------------------------------------------------------------------------------
# Option (distractor) statistics


def option_statistics(
    choices: pd.DataFrame,
    keys: Mapping[Hashable, Hashable],
    scores: pd.DataFrame | Responses,
    max_marks: Mapping[Hashable, float] | None = None,
    omitted: pd.DataFrame | None = None,
    *,
    option_labels: Mapping[Hashable, Sequence[Hashable]] | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> pd.DataFrame:
    """One row per item and option, with the columns of OPTION_COLUMNS.

    choices: the option label each candidate chose, candidates by single-choice items; "" = left
    blank (its own row, and scored 0), NaN = not presented. keys: the keyed label per item.
    scores (with max_marks, omitted): the marks on every item of the forms, as for
    item_statistics (or prepared); totals and groups come from them. Prepared responses must
    already count every blank choice as omitted. option_labels: every option of an item,
    so that one nobody chose still gets a row (n = 0); otherwise the labels seen and the key.
    Options come in option_labels order (else sorted), the blank row last.

    r_option_rest = r(chose o, (total - chose o x max mark) / (form max - max mark)): CTT's pBis,
    which takes out of the total what the option would earn if it were the key.
    """
    columns = scores.columns if isinstance(scores, pd.DataFrame) else pd.Index(scores.items)
    candidates = scores.index if isinstance(scores, pd.DataFrame) else scores.candidates
    missing = [str(i) for i in choices.columns if i not in columns]
    if missing:
        raise ValueError(f"choices for items without scores: {', '.join(missing[:10])}")
    unkeyed = [str(i) for i in choices.columns if i not in keys]
    if unkeyed:
        raise ValueError(f"no key for items: {', '.join(unkeyed[:10])}")
    strangers = choices.index.difference(candidates)
    if len(strangers):
        raise ValueError(f"choices for candidates without scores: {', '.join(map(str, strangers[:10]))}")
    chosen = choices.reindex(index=candidates)
    present = chosen.notna().to_numpy(dtype=bool)
    blank = (chosen == BLANK).to_numpy(dtype=bool, na_value=False)
    labels = chosen.to_numpy(dtype=object)
    if isinstance(scores, Responses):
        cells = _cells(scores, max_marks, omitted)
    else:
        if omitted is not None:
            blank_all = omitted.reindex(index=scores.index, columns=scores.columns).eq(True).to_numpy(dtype=bool, na_value=False)
        else:
            blank_all = np.zeros(scores.shape, dtype=bool)
        blank_all[:, scores.columns.get_indexer(choices.columns)] |= blank
        cells = _cells(scores, max_marks, pd.DataFrame(blank_all, index=scores.index, columns=scores.columns))
    upper, lower, size = _upper_lower(cells, thresholds.upper_lower_share)

    frames = []
    for col, item in enumerate(choices.columns):
        j = cells.items.index(item)
        span = slice(cells.starts[j], cells.starts[j + 1])
        c = cells.cand[span]
        if len(c) != int(present[:, col].sum()) or not present[c, col].all():
            raise ValueError(f"item {item}: the choices and the scores disagree on who was presented it")
        if (blank[c, col] & ~cells.omitted[span]).any():
            raise ValueError(f"item {item}: a choice left blank is not omitted in the prepared responses")
        frames.append(
            _item_options(item, keys[item], labels[c, col], cells, j, c, upper[span], lower[span], int(size[j]),
                          None if option_labels is None else option_labels.get(item))
        )
    if not frames:
        return pd.DataFrame({name: [] for name in OPTION_COLUMNS})
    return pd.concat(frames, ignore_index=True)


def _item_options(
    item: Hashable,
    key: Hashable,
    chosen: npt.NDArray[np.object_],
    cells: Responses,
    j: int,
    cand: Ints,
    upper: Bools,
    lower: Bools,
    size: int,
    listed: Sequence[Hashable] | None,
) -> pd.DataFrame:
    seen = set(pd.unique(chosen))
    if listed is not None:
        unknown = seen - set(listed) - {BLANK}
        if unknown:
            raise ValueError(f"item {item}: options chosen but not listed: {', '.join(sorted(map(str, unknown)))}")
        if key not in listed:
            raise ValueError(f"item {item}: the key {key!r} is not one of its options")
        order = [o for o in listed if o != BLANK]
    else:
        order = sorted((seen | {key}) - {BLANK}, key=str)
    if BLANK in seen:
        order.append(BLANK)
    onehot = (chosen[:, None] == np.array(order, dtype=object)[None, :]).astype(float)
    n = len(chosen)
    count = onehot.sum(axis=0)
    m = float(cells.maxima[j])
    rest_max = cells.form_max[cand] - m
    has_rest = rest_max > 0
    total = cells.total[cand]
    options = len(order)
    # All options at once as groups: option o's cells are the block o of the stacked columns.
    group = np.repeat(np.arange(options), int(has_rest.sum()))
    ind = onehot[has_rest].T.ravel()
    rest = ((total[has_rest][None, :] - onehot[has_rest].T * m) / rest_max[has_rest][None, :]).ravel()
    r, _ = _grouped_r(group.astype(np.intp), ind, rest, np.ones(len(ind)), options)
    nan = np.full(options, np.nan)
    return pd.DataFrame(
        {
            "item": [item] * options,
            "option": list(order),
            "is_key": [o == key for o in order],
            "n": count.astype(np.int64),
            "proportion": count / n if n else nan,
            "r_option_rest": r,
            "p_upper": onehot[upper].sum(axis=0) / size if size else nan,
            "p_lower": onehot[lower].sum(axis=0) / size if size else nan,
        }
    )


# ---------------------------------------------------------------------------------------------
# Test statistics


@dataclass(frozen=True)
class Histogram:
    """counts[i] candidates have a total in [edges[i], edges[i + 1]); the last bin is closed."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]


@dataclass(frozen=True)
class TestStatistics:
    """The score distribution and (for a fixed form) reliability of one test or form."""

    __test__ = False  # a result, not a pytest test class

    n: int  # candidates presented at least one item
    k: int  # items presented to at least one candidate
    scale: str  # "marks" when every form has the same max marks, else "proportion" of own form's marks
    max_total: float  # max marks of a form; 1.0 on the proportion scale
    mean: float
    sd: float  # n - 1
    alpha: float  # Cronbach (KR-20 for 0/1), fixed form only, else NaN
    sem: float  # sd sqrt(1 - alpha)
    histogram: Histogram
    pass_rate: float | None = None  # share with total >= pass_mark, when a pass mark is given


def test_statistics(
    scores: pd.DataFrame | Responses,
    max_marks: Mapping[Hashable, float] | None = None,
    omitted: pd.DataFrame | None = None,
    *,
    pass_mark: float | None = None,
) -> TestStatistics:
    """N, items, mean, SD, alpha, SEM and histogram of totals (same input as item_statistics).

    Totals are raw marks when every candidate's form has the same max marks (one bin per mark),
    else proportions of the candidate's own form (ten bins of 0.1); pass_mark is on that scale.
    Alpha and the SEM need a fixed form; for on-demand forms use Rasch person separation.
    """
    cells = _cells(scores, max_marks, omitted)
    sat = cells.form_max > 0
    form_max = cells.form_max[sat]
    k = int(np.count_nonzero(np.diff(cells.starts)))
    if len(form_max) and np.allclose(form_max, form_max[0]):
        scale, top, totals = "marks", float(form_max[0]), cells.total[sat]
        edges = np.arange(0.0, math.floor(top) + 2.0)
    else:
        scale, top, totals = "proportion", 1.0, cells.proportion[sat]
        edges = np.round(np.linspace(0.0, 1.0, 11), 10)
    n = len(totals)
    alpha, _ = _alpha(cells, np.nan_to_num(_item_variances(cells)))  # NaN unless a fixed form
    sd = float(np.std(totals, ddof=1)) if n > 1 else math.nan
    counts, _ = np.histogram(totals, bins=edges)
    return TestStatistics(
        n=n,
        k=k,
        scale=scale,
        max_total=top,
        mean=float(totals.mean()) if n else math.nan,
        sd=sd,
        alpha=alpha,
        sem=sd * math.sqrt(1 - alpha) if alpha <= 1 else math.nan,
        histogram=Histogram(tuple(float(e) for e in edges), tuple(int(v) for v in counts)),
        pass_rate=None if pass_mark is None or not n else float(np.mean(totals >= pass_mark - 1e-9)),
    )


# pytest collects module-level names starting "test_" from any test module that imports them.
setattr(test_statistics, "__test__", False)


def _item_variances(cells: Responses) -> Floats:
    k = len(cells.items)
    n = _sums(cells.item, None, k)
    mean = _ratio(_sums(cells.item, cells.mark, k), n)
    ss = _sums(cells.item, (cells.mark - mean[cells.item]) ** 2, k)
    variance = _ratio(ss, n - 1)
    variance[n < 2] = np.nan
    return variance
