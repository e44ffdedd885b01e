"""Mantel-Haenszel DIF follows the guide: alpha_MH, D-DIF, chi-square, RBG standard error, ETS classes.

The worked example's values are computed by hand below; the literals are those of statsmodels
0.15 (StratifiedTable: oddsratio_pooled, 2.35 * logodds_pooled_se, test_null_odds(correction=True)),
which agree with the hand computation to its 7 digits. Tolerance 1e-9.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from testengine.psychometrics.dif import COLUMNS, ets_class, mantel_haenszel, mantel_haenszel_dif

# Two strata, reference right/wrong (A, B), focal right/wrong (C, D):
#   stratum 1: A = 10, B = 20, C =  5, D = 25   T = 60   n_R = 30, n_F = 30, m_1 = 15, m_0 = 45
#   stratum 2: A = 30, B = 10, C = 20, D = 20   T = 80   n_R = 40, n_F = 40, m_1 = 50, m_0 = 30
A, B, C, D = [10, 30], [20, 10], [5, 20], [25, 20]
# alpha_MH = (10*25/60 + 30*20/80) / (20*5/60 + 10*20/80) = (4.16667 + 7.5) / (1.66667 + 2.5) = 2.8
ALPHA = 2.8
# D-DIF = -2.35 ln 2.8 = -2.35 * 1.0296194 = -2.4196056
D_DIF = -2.419605630375722
# E(A) = 30*15/60 + 40*50/80 = 7.5 + 25 = 32.5, sum A = 40
# Var(A) = 30*30*15*45 / (60^2 * 59) + 40*40*50*30 / (80^2 * 79) = 2.8601695 + 4.7468354 = 7.6070049
# chi2 = (|40 - 32.5| - 0.5)^2 / 7.6070049 = 49 / 7.6070049 = 6.4414313, p = 0.0111489 (1 df)
CHI2, P_VALUE = 6.441431341441917, 0.01114887788849294
# RBG: P = (A + D)/T = (.583333, .625), Q = (B + C)/T = (.416667, .375), R = AD/T = (4.166667, 7.5),
# S = BC/T = (1.666667, 2.5); sum R = 11.666667, sum S = 4.166667
# Var(ln alpha) = sum PR / (2 sum R^2) + sum (PS + QR) / (2 sum R sum S) + sum QS / (2 sum S^2)
#               = 7.1180556 / 272.22222 + 7.0833333 / 97.222222 + 1.6319444 / 34.722222
#               = 0.0261480 + 0.0728571 + 0.0470000 = 0.1460051
# SE(D-DIF) = 2.35 sqrt(0.1460051) = 0.8979494
SE = 0.8979494284314724


def test_the_worked_example_by_hand():
    result = mantel_haenszel(A, B, C, D)
    assert result.alpha_mh == pytest.approx(ALPHA, abs=1e-9)
    assert result.d_dif == pytest.approx(D_DIF, abs=1e-9)
    assert result.chi2 == pytest.approx(CHI2, abs=1e-9)
    assert result.p_value == pytest.approx(P_VALUE, abs=1e-9)
    assert result.se == pytest.approx(SE, abs=1e-9)
    # |D| = 2.42 >= 1.5 but (2.42 - 1) / 0.898 = 1.58 < 1.645: large, not surely beyond 1, so B.
    assert ets_class(result.d_dif, result.se, result.p_value) == "B-"


def test_four_times_the_candidates_make_the_same_effect_class_c():
    result = mantel_haenszel(*(np.array(v) * 4 for v in (A, B, C, D)))
    assert result.alpha_mh == pytest.approx(ALPHA)
    # The RBG variance is inversely proportional to the counts: the SE halves.
    assert result.se == pytest.approx(SE / 2)
    assert ets_class(result.d_dif, result.se, result.p_value) == "C-"


def test_strata_with_one_candidate_or_one_group_add_nothing():
    padded = mantel_haenszel(A + [1, 0, 3], B + [0, 0, 4], C + [0, 2, 0], D + [0, 0, 0])
    plain = mantel_haenszel(A, B, C, D)
    assert padded == plain


def test_ets_classes_follow_the_rule_and_carry_the_sign():
    assert ets_class(-2.0, 0.2, 0.20) == "A"  # not significant
    assert ets_class(0.9, 0.1, 0.001) == "A"  # |D| < 1
    assert ets_class(1.2, 0.1, 0.001) == "B+"
    assert ets_class(-1.6, 0.5, 0.001) == "B-"  # (1.6 - 1) / 0.5 = 1.2 < 1.645
    assert ets_class(-1.6, 0.3, 0.001) == "C-"  # 2.0 > 1.645
    assert ets_class(1.6, 0.3, 0.001) == "C+"
    assert ets_class(1.6, 0.3, 0.001, critical_z=2.33) == "B+"  # a stricter critical value
    assert ets_class(1.6, 0.3, 0.03, significance=0.01) == "A"
    assert ets_class(-math.inf, math.nan, 0.001) is None


def tables_as_responses(a, b, c, d):
    """Three items; the first is studied. Stratum 1 = total score 1, stratum 2 = total score 2."""
    rows, groups = [], []
    for group, right_wrong in (("ref", (a, b)), ("foc", (c, d))):
        for right, count1, count2 in ((True, right_wrong[0][0], right_wrong[0][1]), (False, right_wrong[1][0], right_wrong[1][1])):
            # total 1: the studied item alone right, or another item; total 2: two of three right
            rows += [[1, 0, 0] if right else [0, 1, 0]] * count1
            rows += [[1, 1, 0] if right else [0, 1, 1]] * count2
            groups += [group] * (count1 + count2)
    return pd.DataFrame(rows, columns=["Q1", "Q2", "Q3"], dtype=float), groups


def test_a_response_matrix_gives_the_worked_example_tables():
    x, groups = tables_as_responses(A, B, C, D)
    table = mantel_haenszel_dif(x, groups, "ref", "foc", min_reference=1, min_focal=1)
    assert list(table.columns) == COLUMNS
    row = table.set_index("item").loc["Q1"]
    assert (row.n_reference, row.n_focal) == (70, 70)
    assert row.alpha_mh == pytest.approx(ALPHA, abs=1e-9)
    assert row.d_dif == pytest.approx(D_DIF, abs=1e-9)
    assert row.chi2 == pytest.approx(CHI2, abs=1e-9)
    assert row.se == pytest.approx(SE, abs=1e-9)
    assert row.ets_class == "B-"
    # Swapping the groups turns the sign: the item favours the other group.
    swapped = mantel_haenszel_dif(x, groups, "foc", "ref", min_reference=1, min_focal=1).set_index("item").loc["Q1"]
    assert swapped.d_dif == pytest.approx(-D_DIF) and swapped.ets_class == "B+"


def simulate(theta, b, rng):
    p = 1.0 / (1.0 + np.exp(-(theta[:, None] - b)))
    return (rng.random(p.shape) < p).astype(float)


def dif_data(rng, shift_item=None, shift=0.0, n=1000, k=20):
    """Rasch responses; the focal group is 0.5 logits less able (impact is not DIF)."""
    b = np.linspace(-1.5, 1.5, k)
    b_focal = b.copy()
    if shift_item is not None:
        b_focal[shift_item] += shift
    x = np.vstack([simulate(rng.normal(0, 1, n), b, rng), simulate(rng.normal(-0.5, 1, n), b_focal, rng)])
    return x, np.array(["R"] * n + ["F"] * n)


def test_no_dif_gives_class_a_for_nearly_all_items():
    x, groups = dif_data(np.random.default_rng(1))
    table = mantel_haenszel_dif(x, groups, "R", "F")
    assert (table["ets_class"] == "A").sum() >= 19
    assert table["d_dif"].abs().max() < 1.0


def test_an_item_one_logit_harder_for_the_focal_group_is_c_minus():
    x, groups = dif_data(np.random.default_rng(2), shift_item=7, shift=1.0)
    table = mantel_haenszel_dif(x, groups, "R", "F")
    # Under the Rasch model alpha_MH estimates exp(shift): D-DIF about -2.35.
    assert table.loc[7, "ets_class"] == "C-"
    assert table.loc[7, "d_dif"] == pytest.approx(-2.35, abs=0.6)
    assert (table.drop(index=7)["ets_class"] == "A").sum() >= 18


def test_an_item_one_logit_easier_for_the_focal_group_is_c_plus():
    x, groups = dif_data(np.random.default_rng(3), shift_item=12, shift=-1.0)
    table = mantel_haenszel_dif(x, groups, "R", "F")
    assert table.loc[12, "ets_class"] == "C+"


def test_groups_below_the_minimum_are_not_analysed_and_say_why():
    x, groups = dif_data(np.random.default_rng(4), n=300)
    groups[300:560] = "other"  # 40 focal candidates remain; "other" is in neither group
    table = mantel_haenszel_dif(x, groups, "R", "F", min_reference=100, min_focal=50)
    assert (table["n_focal"] == 40).all() and (table["n_reference"] == 300).all()
    assert table["ets_class"].isna().all() and table["d_dif"].isna().all()
    assert table.loc[0, "note"] == "not analysed: n_focal 40 below the minimum 50"
    analysed = mantel_haenszel_dif(x, groups, "R", "F", min_reference=100, min_focal=40)
    assert analysed["ets_class"].notna().all() and (analysed["note"] == "").all()
    few = mantel_haenszel_dif(x, groups, "R", "F", min_reference=301, min_focal=50)
    assert few.loc[0, "note"] == "not analysed: n_reference 300 below the minimum 301; n_focal 40 below the minimum 50"


def test_on_a_fixed_form_the_strata_are_the_total_scores():
    x, groups = dif_data(np.random.default_rng(5), shift_item=3, shift=0.6, n=400, k=10)
    table = mantel_haenszel_dif(x, groups, "R", "F")
    total = x.sum(axis=1).astype(int)
    ref, right = groups == "R", x[:, 3] == 1
    counts = [np.bincount(total[mask], minlength=11) for mask in (ref & right, ref & ~right, ~ref & right, ~ref & ~right)]
    classical = mantel_haenszel(*counts)
    assert table.loc[3, "alpha_mh"] == pytest.approx(classical.alpha_mh, abs=1e-12)
    assert table.loc[3, "chi2"] == pytest.approx(classical.chi2, abs=1e-12)
    # A matching set without the studied item still matches on it: the same strata here.
    others = [i for i in range(10) if i != 3]
    matched = mantel_haenszel_dif(x, groups, "R", "F", matching=others)
    assert matched.loc[3, "d_dif"] == pytest.approx(table.loc[3, "d_dif"], abs=1e-12)


def test_on_demand_forms_use_only_candidates_presented_the_item():
    rng = np.random.default_rng(6)
    x, groups = dif_data(rng, shift_item=5, shift=1.0, n=3000, k=40)
    keep = np.argsort(rng.random(x.shape), axis=1)[:, :20]
    forms = np.full(x.shape, np.nan)
    rows = np.arange(x.shape[0])[:, None]
    forms[rows, keep] = x[rows, keep]
    table = mantel_haenszel_dif(forms, groups, "R", "F")
    presented = ~np.isnan(forms)
    assert (table["n_reference"] == presented[:3000].sum(axis=0)).all()
    assert table.loc[5, "ets_class"] == "C-"
    assert (table.drop(index=5)["ets_class"] == "A").sum() >= 36


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="0, 1 or NaN"):
        mantel_haenszel_dif(np.array([[2.0]]), ["R"], "R", "F")
    with pytest.raises(ValueError, match="labels for"):
        mantel_haenszel_dif(np.zeros((3, 2)), ["R", "F"], "R", "F")
    with pytest.raises(ValueError, match="matching items"):
        mantel_haenszel_dif(np.zeros((2, 2)), ["R", "F"], "R", "F", matching=[5])
