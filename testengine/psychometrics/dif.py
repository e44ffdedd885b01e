"""Differential item functioning by the Mantel-Haenszel procedure (Holland & Thayer 1988).

Candidates are matched on their score, and within each stratum k an item gives a 2x2 table:

                 right   wrong
    reference     A_k     B_k
    focal         C_k     D_k      T_k = A_k + B_k + C_k + D_k

    alpha_MH = sum(A D / T) / sum(B C / T)             common odds ratio (> 1 favours the reference group)
    MH D-DIF = -2.35 ln(alpha_MH)                      ETS delta scale: negative disfavours the focal group
    chi2_MH  = (|sum A - sum E(A)| - 1/2)^2 / sum Var(A)
               E(A) = n_R m_1 / T,  Var(A) = n_R n_F m_1 m_0 / (T^2 (T - 1))
               (the continuity correction as R's mantelhaen.test: no more than |sum A - sum E(A)|)
    Var(ln alpha_MH), Robins, Breslow & Greenland (1986), with P = (A + D)/T, Q = (B + C)/T,
               R = A D / T, S = B C / T:
               sum P R / (2 (sum R)^2) + sum (P S + Q R) / (2 sum R sum S) + sum Q S / (2 (sum S)^2)
    SE(D-DIF) = 2.35 sqrt(Var(ln alpha_MH))

Strata with fewer than two candidates add nothing to any sum and are left out.

ETS classes (Zwick 2012): A if chi2_MH is not significant (p >= `significance`) or |D| < 1.0;
C if |D| >= 1.5 and (|D| - 1) / SE > `critical_z`; otherwise B. B and C carry the sign of D
("C-" disfavours the focal group); A carries none. difR prints classes from |D| alone; these
follow the full rule.

Matching with on-demand forms: only candidates presented the item are used, and they are
stratified on their proportion correct over the items of their own form (the matching set,
all items unless given, always with the studied item, as Holland & Thayer advise). A stratum
is an exact fraction (right/presented in lowest terms), so on a fixed form, where everyone has
the same number of items, the strata are exactly the classical total-score strata.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import chi2 as chi2_distribution

FloatArray = npt.NDArray[np.float64]

DELTA = 2.35  # ETS delta scale: 4 / 1.7
COLUMNS = ["item", "n_reference", "n_focal", "alpha_mh", "d_dif", "se", "chi2", "p_value", "ets_class", "note"]


@dataclass(frozen=True)
class MantelHaenszel:
    alpha_mh: float
    d_dif: float
    se: float  # of D-DIF
    chi2: float  # with continuity correction, 1 df
    p_value: float


def mantel_haenszel(a: Any, b: Any, c: Any, d: Any) -> MantelHaenszel:
    """The statistics from per-stratum counts: A, B reference right/wrong, C, D focal right/wrong."""
    a_, b_, c_, d_ = (np.asarray(v, dtype=np.float64) for v in (a, b, c, d))
    t = a_ + b_ + c_ + d_
    keep = t >= 2
    a_, b_, c_, d_, t = a_[keep], b_[keep], c_[keep], d_[keep], t[keep]
    r = a_ * d_ / t
    s = b_ * c_ / t
    sum_r, sum_s = float(r.sum()), float(s.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.float64(sum_r) / np.float64(sum_s)
        d_dif = float(-DELTA * np.log(alpha))
    if sum_r > 0 and sum_s > 0:
        p = (a_ + d_) / t
        q = (b_ + c_) / t
        variance = (
            float((p * r).sum()) / (2 * sum_r**2)
            + float((p * s + q * r).sum()) / (2 * sum_r * sum_s)
            + float((q * s).sum()) / (2 * sum_s**2)
        )
        se = DELTA * math.sqrt(variance)
    else:
        se = math.nan
    n_ref, n_foc = a_ + b_, c_ + d_
    m_right, m_wrong = a_ + c_, b_ + d_
    expected = n_ref * m_right / t
    var_a = float((n_ref * n_foc * m_right * m_wrong / (t**2 * (t - 1))).sum())
    delta = abs(float(a_.sum() - expected.sum()))
    if var_a > 0:
        statistic = (delta - min(0.5, delta)) ** 2 / var_a
        p_value = float(chi2_distribution.sf(statistic, 1))
    else:
        statistic = p_value = math.nan
    return MantelHaenszel(float(alpha), d_dif, se, statistic, p_value)


def ets_class(d_dif: float, se: float, p_value: float, significance: float = 0.05, critical_z: float = 1.645) -> str | None:
    """A, B+/B-, C+/C- as defined in the module docstring; None when D or its SE is not finite."""
    if not (math.isfinite(d_dif) and math.isfinite(se) and math.isfinite(p_value)):
        return None
    size = abs(d_dif)
    if p_value >= significance or size < 1.0:
        return "A"
    sign = "+" if d_dif > 0 else "-"
    if size >= 1.5 and (size - 1.0) / se > critical_z:
        return "C" + sign
    return "B" + sign


def mantel_haenszel_dif(
    responses: Any,
    groups: Sequence[Hashable] | npt.ArrayLike,
    reference: Hashable,
    focal: Hashable,
    *,
    matching: Sequence[Hashable] | None = None,
    min_reference: int = 100,
    min_focal: int = 100,
    significance: float = 0.05,
    critical_z: float = 1.645,
) -> Any:
    """One row per item (a pandas DataFrame with the columns in COLUMNS).

    `responses` is a candidates x items array or DataFrame of 0, 1 and NaN (not presented);
    `groups` gives each candidate's group label; candidates in neither group are left out.
    `matching` names the items whose proportion correct forms the strata (default: all).
    Items whose reference or focal group is below the minimum are reported as not analysed,
    with the reason in `note`.
    """
    x = np.asarray(responses, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"responses must be a 2-D candidates x items matrix, got shape {x.shape}")
    labels: list[Hashable] = list(responses.columns) if hasattr(responses, "columns") else list(range(x.shape[1]))
    seen = x[~np.isnan(x)]
    if not np.all((seen == 0) | (seen == 1)):
        raise ValueError("responses must be 0, 1 or NaN (not presented)")
    group = np.asarray(groups, dtype=object)
    if group.shape != (x.shape[0],):
        raise ValueError(f"groups has {group.size} labels for {x.shape[0]} candidates")
    is_ref = group == reference
    is_foc = group == focal
    presented = ~np.isnan(x)
    right = np.where(presented, x, 0.0).astype(np.int64)
    in_set = np.ones(x.shape[1], dtype=bool)
    if matching is not None:
        position = {label: i for i, label in enumerate(labels)}
        missing = [m for m in matching if m not in position]
        if missing:
            raise ValueError(f"matching items not in the matrix: {missing}")
        in_set = np.zeros(x.shape[1], dtype=bool)
        in_set[[position[m] for m in matching]] = True
    set_right = (right * in_set).sum(axis=1)
    set_count = (presented & in_set).sum(axis=1)

    rows = []
    for i, label in enumerate(labels):
        taken = presented[:, i]
        ref, foc = taken & is_ref, taken & is_foc
        n_ref, n_foc = int(ref.sum()), int(foc.sum())
        row: dict[str, Any] = dict(item=label, n_reference=n_ref, n_focal=n_foc, ets_class=None, note="")
        short = []
        if n_ref < min_reference:
            short.append(f"n_reference {n_ref} below the minimum {min_reference}")
        if n_foc < min_focal:
            short.append(f"n_focal {n_foc} below the minimum {min_focal}")
        if short:
            row.update(alpha_mh=math.nan, d_dif=math.nan, se=math.nan, chi2=math.nan, p_value=math.nan)
            row["note"] = "not analysed: " + "; ".join(short)
            rows.append(row)
            continue
        # The studied item is always part of the matching score.
        numerator = set_right + (0 if in_set[i] else right[:, i])
        denominator = set_count + (0 if in_set[i] else 1)
        use = ref | foc
        divisor = np.gcd(numerator[use], denominator[use])
        stratum_key = (numerator[use] // divisor) * (x.shape[1] + 1) + denominator[use] // divisor
        _, stratum = np.unique(stratum_key, return_inverse=True)
        size = int(stratum.max()) + 1
        ok = right[use, i] == 1
        r_use, f_use = ref[use], foc[use]
        counts = [np.bincount(stratum[mask], minlength=size) for mask in (r_use & ok, r_use & ~ok, f_use & ok, f_use & ~ok)]
        stats = mantel_haenszel(*counts)
        row.update(alpha_mh=stats.alpha_mh, d_dif=stats.d_dif, se=stats.se, chi2=stats.chi2, p_value=stats.p_value)
        row["ets_class"] = ets_class(stats.d_dif, stats.se, stats.p_value, significance, critical_z)
        if row["ets_class"] is None:
            row["note"] = "no class: alpha_MH is 0, infinite or undefined (no right/wrong contrast within the strata)"
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)
