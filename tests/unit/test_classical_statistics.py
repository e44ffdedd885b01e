"""Classical item, option and test statistics agree with R and follow the guide's conventions.

Reference values: tests/reference_data/expected/ (copied from shared/reference-data),, computed with R 4.2.2 by psych 2.2.9
(alpha: raw.r, r.drop, alpha.drop, raw_alpha) and CTT 2.3.3 (itemAnalysis, distractorAnalysis),
on LSAT6 (ltm), LSAT7 (mirt) and the CTT example data (CTTdata, CTTkey).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from testengine.domain.problems import DataError, Source
from testengine.psychometrics.classical import (
    CONVENTIONS, ITEM_COLUMNS, OPTION_COLUMNS, item_statistics, option_statistics, prepare, test_statistics,
)
from testengine.psychometrics.item_flags import Thresholds, flag_items

# The shared reference data, copied into the repository (tests/reference_data/README.md).
REFERENCE = Path(__file__).resolve().parents[1] / "reference_data"
EXPECTED = REFERENCE / "expected"
TOLERANCE = 1e-6

# data file, psych/CTT item table, name in test_level_psych.csv
DATASETS = {
    "lsat6": ("lsat6_ltm.csv", "lsat6_items_psych_CTT.csv"),
    "lsat7": ("lsat7_mirt.csv", "lsat7_items_psych_CTT.csv"),
    "cttdata": ("ctt_cttdata_scored.csv", "cttdata_items_psych_CTT.csv"),
}


def scored(name: str) -> pd.DataFrame:
    frame = pd.read_csv(REFERENCE / DATASETS[name][0]).astype(float)
    frame.index = pd.Index([f"c{n:04d}" for n in range(len(frame))])
    return frame


def ctt_raw() -> tuple[pd.DataFrame, dict[str, str], pd.DataFrame]:
    """CTTdata's chosen options, CTTkey, and the 0/1 scores (key matches choice)."""
    choices = pd.read_csv(REFERENCE / "ctt_cttdata_raw.csv", dtype=str, keep_default_na=False)
    choices.index = pd.Index([f"c{n:04d}" for n in range(len(choices))])
    key_table = pd.read_csv(REFERENCE / "ctt_cttkey.csv", dtype=str)
    keys = dict(zip(key_table["item"], key_table["key"]))
    scores = pd.DataFrame({item: (choices[item] == keys[item]).astype(float) for item in choices.columns})
    return choices, keys, scores


def test_the_reference_data_sits_beside_the_repository():
    assert (EXPECTED / "test_level_psych.csv").is_file(), f"shared reference data missing at {REFERENCE}"


# ---------------------------------------------------------------------------------------------
# Against R


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_item_statistics_match_psych_alpha_and_ctt_item_analysis(name):
    ours = item_statistics(scored(name)).set_index("item")
    expected = pd.read_csv(EXPECTED / DATASETS[name][1]).set_index("item")
    assert list(ours.index) == list(expected.index)
    assert (ours["n"] == expected["n"]).all()
    for column, theirs in [
        ("p", "p"),
        ("sd", "sd_item"),
        ("r_item_total", "r_total_raw"),
        ("r_item_rest", "r_item_rest"),
        ("alpha_if_deleted", "alpha_if_deleted"),
    ]:
        np.testing.assert_allclose(ours[column], expected[theirs], rtol=0, atol=TOLERANCE, err_msg=column)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_test_statistics_match_psych_alpha(name):
    row = pd.read_csv(EXPECTED / "test_level_psych.csv").set_index("dataset").loc[name]
    stats = test_statistics(scored(name))
    assert (stats.n, stats.k) == (row["N"], row["k"])
    assert stats.alpha == pytest.approx(row["raw_alpha"], abs=TOLERANCE)
    assert stats.mean == pytest.approx(row["mean_total"], abs=TOLERANCE)
    assert stats.sd == pytest.approx(row["sd_total"], abs=TOLERANCE)
    assert stats.sem == pytest.approx(row["SEM"], abs=TOLERANCE)


def test_option_statistics_match_ctt_distractor_analysis():
    choices, keys, scores = ctt_raw()
    ours = option_statistics(choices, keys, scores)
    assert list(ours.columns) == list(OPTION_COLUMNS)
    expected = pd.read_csv(EXPECTED / "cttdata_distractorAnalysis_CTT.csv")
    both = ours.merge(expected, left_on=["item", "option"], right_on=["item", "key"], validate="one_to_one")
    assert len(both) == len(expected) == len(ours) == 80
    assert (both["is_key"] == (both["correct"] == "*")).all()
    assert (both["n_x"] == both["n_y"]).all()
    np.testing.assert_allclose(both["proportion"], both["rspP"], rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(both["r_option_rest"], both["pBis"], rtol=0, atol=TOLERANCE)


def test_the_keys_option_rest_r_is_the_items_rest_r():
    choices, keys, scores = ctt_raw()
    options = option_statistics(choices, keys, scores)
    keyed = options[options["is_key"]].set_index("item")["r_option_rest"]
    items = item_statistics(scores).set_index("item")["r_item_rest"]
    np.testing.assert_allclose(keyed[items.index], items, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# By definition, on a small on-demand design with partial credit and omissions


def random_design(seed: int = 3, candidates: int = 240, pool: int = 12, per_form: int = 6):
    """Each candidate sits per_form items drawn from the pool; items 0-3 are worth 2 marks."""
    rng = np.random.default_rng(seed)
    items = [f"q{j:02d}" for j in range(pool)]
    maxima = {item: (2.0 if j < 4 else 1.0) for j, item in enumerate(items)}
    theta = rng.normal(size=candidates)
    marks = np.full((candidates, pool), np.nan)
    blank = np.zeros((candidates, pool), dtype=bool)
    for c in range(candidates):
        for j in rng.choice(pool, size=per_form, replace=False):
            top = maxima[items[j]]
            p = 1 / (1 + math.exp(-(theta[c] + 0.3 * (j - pool / 2) / pool)))
            marks[c, j] = float(rng.binomial(int(top), p))
            if marks[c, j] == 0 and rng.random() < 0.2:
                blank[c, j] = True
    ids = pd.Index([f"cand{c:04d}" for c in rng.permutation(candidates)])  # rows not in id order
    scores = pd.DataFrame(marks, index=ids, columns=items)
    scores[pd.DataFrame(blank, index=ids, columns=items)] = np.nan  # the blanks arrive unscored
    omitted = pd.DataFrame(blank, index=ids, columns=items)
    return scores, maxima, omitted


def by_definition(scores: pd.DataFrame, maxima: dict[str, float], omitted: pd.DataFrame, share: float = 0.27):
    """Each statistic straight from the guide, one item and one candidate at a time."""
    marks = scores.where(~omitted, 0.0)
    rows = []
    for item in scores.columns:
        x, rest, total, ids = [], [], [], []
        for cand, row in marks.iterrows():
            if math.isnan(row[item]):
                continue
            others = [i for i in scores.columns if i != item and not math.isnan(row[i])]
            x.append(row[item])
            rest.append(sum(row[i] for i in others) / sum(maxima[i] for i in others))
            total.append((row[item] + sum(row[i] for i in others)) / (maxima[item] + sum(maxima[i] for i in others)))
            ids.append(cand)
        x_, rest_ = np.array(x), np.array(rest)
        order = sorted(range(len(x)), key=lambda k: (total[k], ids[k]))
        g = int(math.floor(share * len(x) + 0.5))
        lower, upper = order[:g], order[len(x) - g:]
        cov = np.cov(x_, rest_)[0, 1]
        rows.append({
            "item": item,
            "n": len(x),
            "omit_rate": omitted.loc[[i for i in ids], item].mean(),
            "p": x_.mean() / maxima[item],
            "sd": x_.std(ddof=1),
            "r_item_total": np.corrcoef(x_, total)[0, 1],
            "r_item_rest": np.corrcoef(x_, rest_)[0, 1],
            "d_upper_lower": (x_[upper].mean() - x_[lower].mean()) / maxima[item],
            "disc_efficiency": 100 * cov / np.cov(np.sort(x_), np.sort(rest_))[0, 1],
        })
    return pd.DataFrame(rows).set_index("item")


def test_item_statistics_on_on_demand_forms_follow_the_definitions():
    scores, maxima, omitted = random_design()
    ours = item_statistics(scores, maxima, omitted).set_index("item")
    theirs = by_definition(scores, maxima, omitted)
    assert list(ours.columns) == list(ITEM_COLUMNS[1:])
    assert (ours["n"] == theirs["n"]).all()
    for column in theirs.columns.drop("n"):
        np.testing.assert_allclose(ours[column], theirs[column], rtol=0, atol=1e-9, err_msg=column)
    assert ours["alpha_if_deleted"].isna().all()  # not a fixed form
    assert ours["omit_rate"].gt(0).any()


def test_an_item_not_presented_is_missing_but_one_left_blank_scores_zero():
    ids = pd.Index(["a", "b", "c", "d"])
    scores = pd.DataFrame({"q1": [1.0, 1.0, 0.0, np.nan], "q2": [1.0, 0.0, 1.0, 1.0]}, index=ids)
    not_presented = item_statistics(scores).set_index("item").loc["q1"]
    assert (not_presented["n"], not_presented["p"], not_presented["omit_rate"]) == (3, pytest.approx(2 / 3), 0.0)

    blank = pd.DataFrame({"q1": [False, False, False, True]}, index=ids)  # d saw q1 and left it
    omitted = item_statistics(scores, omitted=blank).set_index("item").loc["q1"]
    assert (omitted["n"], omitted["p"], omitted["omit_rate"]) == (4, 0.5, 0.25)


def test_an_omitted_answer_with_marks_is_refused():
    scores = pd.DataFrame({"q1": [1.0, 0.0], "q2": [1.0, 1.0]}, index=["a", "b"])
    with pytest.raises(ValueError, match="q1"):
        item_statistics(scores, omitted=pd.DataFrame({"q1": [True, False]}, index=["a", "b"]))


def test_marks_above_the_items_max_are_refused():
    scores = pd.DataFrame({"q1": [2.0, 0.0], "q2": [1.0, 1.0]}, index=["a", "b"])
    with pytest.raises(ValueError, match="q1"):
        item_statistics(scores)
    assert item_statistics(scores, {"q1": 2.0}).loc[0, "p"] == 0.5


def test_on_demand_forms_that_happen_to_be_complete_give_the_fixed_form_values():
    # Every candidate draws all five LSAT7 items, in a random order: the design is complete.
    fixed = scored("lsat7")
    rng = np.random.default_rng(7)
    drawn = pd.DataFrame(np.nan, index=fixed.index, columns=fixed.columns)
    for cand in fixed.index:
        for item in rng.permutation(fixed.columns):
            drawn.loc[cand, item] = fixed.loc[cand, item]
    expected = pd.read_csv(EXPECTED / "lsat7_items_psych_CTT.csv")["r_item_rest"].to_numpy()
    np.testing.assert_allclose(item_statistics(drawn)["r_item_rest"], expected, rtol=0, atol=TOLERANCE)


def test_two_fixed_forms_side_by_side_keep_each_forms_classical_values():
    # LSAT6 candidates sat form A, LSAT7 candidates form B: one matrix, two forms, no item shared.
    six, seven = scored("lsat6"), scored("lsat7")
    seven.index = pd.Index([f"d{n:04d}" for n in range(len(seven))])
    both = pd.concat([six, seven])
    assert both.isna().any().all()
    ours = item_statistics(both).set_index("item")
    for name, frame in (("lsat6", six), ("lsat7", seven)):
        expected = pd.read_csv(EXPECTED / DATASETS[name][1]).set_index("item")
        for column, theirs in [("p", "p"), ("r_item_total", "r_total_raw"), ("r_item_rest", "r_item_rest")]:
            np.testing.assert_allclose(ours.loc[frame.columns, column], expected[theirs], atol=TOLERANCE)
    assert ours["alpha_if_deleted"].isna().all()
    assert math.isnan(test_statistics(both).alpha)


def test_partial_credit_on_a_fixed_form_gives_the_classical_rest_correlation():
    rng = np.random.default_rng(11)
    theta = rng.normal(size=300)
    maxima = {"a": 1.0, "b": 2.0, "c": 3.0, "d": 1.0}
    scores = pd.DataFrame({
        item: rng.binomial(int(top), 1 / (1 + np.exp(-theta))).astype(float) for item, top in maxima.items()
    })
    ours = item_statistics(scores, maxima).set_index("item")
    total = scores.sum(axis=1)
    for item in maxima:
        assert ours.loc[item, "r_item_rest"] == pytest.approx(np.corrcoef(scores[item], total - scores[item])[0, 1])
        assert ours.loc[item, "p"] == pytest.approx(scores[item].mean() / maxima[item])


# ---------------------------------------------------------------------------------------------
# Upper and lower groups


@pytest.mark.parametrize(("n", "size"), [(10, 3), (37, 10), (50, 14), (100, 27), (150, 41), (1000, 270)])
def test_upper_and_lower_groups_hold_exactly_round_027_n(n, size):
    # The anchor orders the candidates strictly (the probes, rising with it, keep that order).
    # A probe right for exactly the top `size` has D = 1 only if the upper group is within the
    # top `size`; one right for the top `size - 1` has D < 1 only if the group is not smaller.
    # The bottom probes do the same for the lower group.
    ids = pd.Index([f"c{k:05d}" for k in range(n)])
    anchor = np.arange(n, dtype=float)
    scores = pd.DataFrame(
        {
            "anchor": anchor,
            "top": (anchor >= n - size).astype(float),
            "top_less": (anchor >= n - size + 1).astype(float),
            "bottom": (anchor >= size).astype(float),
            "bottom_less": (anchor >= size - 1).astype(float),
        },
        index=ids,
    )
    d = item_statistics(scores, {"anchor": float(n)}).set_index("item")["d_upper_lower"]
    assert d["top"] == d["bottom"] == 1.0
    assert d["top_less"] < 1.0 and d["bottom_less"] < 1.0


def test_ties_at_the_group_edges_go_by_candidate_id():
    # Ten candidates, all with a total of 1: the order is by id, whatever the row order.
    ids = [f"c{k:02d}" for k in range(10)]
    rows = [ids[k] for k in (4, 9, 0, 7, 2, 5, 8, 1, 6, 3)]
    probe = [1.0 if cand in ("c07", "c08", "c09") else 0.0 for cand in rows]
    scores = pd.DataFrame({"probe": probe, "other": [1.0 - v for v in probe]}, index=rows)
    stats = item_statistics(scores).set_index("item")
    # round(2.7) = 3: upper group c07-c09, lower group c00-c02.
    assert stats.loc["probe", "d_upper_lower"] == 1.0
    assert stats.loc["other", "d_upper_lower"] == -1.0


# ---------------------------------------------------------------------------------------------
# Flags


def item_row(**values):
    row = {"item": "q1", "n": 500, "p": 0.5, "r_item_rest": 0.4, "alpha_if_deleted": 0.7}
    row.update(values)
    return pd.DataFrame([row])


def flags_of(alpha=0.8, options=None, thresholds=Thresholds(), **values):
    return flag_items(item_row(**values), options, alpha=alpha, thresholds=thresholds).iloc[0]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, ""),
        ({"p": 0.20}, ""),
        ({"p": 0.1999}, "HARD"),
        ({"p": 0.90}, ""),
        ({"p": 0.9001}, "EASY"),
        ({"r_item_rest": 0.20}, ""),
        ({"r_item_rest": 0.1999}, "LOW_DISC"),
        ({"r_item_rest": 0.0001}, "LOW_DISC"),
        ({"r_item_rest": 0.0}, "LOW_DISC;NEG_DISC"),
        ({"alpha_if_deleted": 0.81 - 1e-9}, ""),
        ({"alpha_if_deleted": 0.81 + 1e-9}, "ALPHA_UP"),
        ({"p": 0.1, "r_item_rest": -0.3, "alpha_if_deleted": 0.9}, "HARD;LOW_DISC;NEG_DISC;ALPHA_UP"),
        ({"r_item_rest": math.nan, "alpha_if_deleted": math.nan}, ""),
    ],
)
def test_item_flags_fire_at_their_thresholds(values, expected):
    assert flags_of(**values) == expected


def test_thresholds_move_the_flags():
    assert flags_of(p=0.25, thresholds=Thresholds(hard=0.3)) == "HARD"
    assert flags_of(p=0.25) == ""


def test_small_samples_are_flagged_and_judged_only_on_what_they_can_show():
    def stats_for(n):
        ids = pd.Index([f"c{k:03d}" for k in range(n)])
        rng = np.random.default_rng(n)
        scores = pd.DataFrame({"never": np.zeros(n), "other": rng.integers(0, 2, n).astype(float)}, index=ids)
        return item_statistics(scores).set_index("item").loc["never", "flags"]

    assert stats_for(29) == "SMALL_N"  # p = 0, but too few to call it HARD
    assert stats_for(30) == "HARD;SMALL_N"  # enough for p, not for correlations
    assert "SMALL_N" not in stats_for(100)


def options_rows(*rows):
    columns = ["option", "is_key", "n", "proportion", "r_option_rest", "p_upper", "p_lower"]
    return pd.DataFrame([dict(zip(columns, row), item="q1") for row in rows])


def test_a_distractor_that_beats_the_key_asks_for_a_key_check():
    sound = options_rows(("A", True, 300, 0.6, 0.40, 0.9, 0.3), ("B", False, 200, 0.4, -0.30, 0.1, 0.7))
    assert "KEY_CHECK" not in flags_of(options=sound)
    positive = options_rows(("A", True, 300, 0.6, 0.40, 0.9, 0.3), ("B", False, 200, 0.4, 0.01, 0.1, 0.7))
    assert "KEY_CHECK" in flags_of(options=positive)
    above_key = options_rows(("A", True, 300, 0.6, -0.20, 0.9, 0.3), ("B", False, 200, 0.4, -0.10, 0.1, 0.7))
    assert "KEY_CHECK" in flags_of(options=above_key)
    upper_prefers = options_rows(("A", True, 300, 0.6, 0.40, 0.45, 0.3), ("B", False, 200, 0.4, -0.30, 0.5, 0.7))
    assert "KEY_CHECK" in flags_of(options=upper_prefers)
    # A blank is not a distractor, however it correlates.
    blank = options_rows(("A", True, 300, 0.6, 0.40, 0.9, 0.3), ("", False, 200, 0.4, 0.5, 0.95, 0.7))
    assert "KEY_CHECK" not in flags_of(options=blank)


def test_a_miskeyed_item_gets_a_key_check():
    # Ten items answered by a Rasch-like population; for q9 the right answer is B but the
    # key says A, so the able choose B and the marks go to whoever guessed A.
    rng = np.random.default_rng(5)
    n = 400
    theta = rng.normal(size=n)
    ids = pd.Index([f"c{k:04d}" for k in range(n)])
    choices, keys = {}, {}
    for j in range(10):
        right = rng.random(n) < 1 / (1 + np.exp(-(theta - 0.2 * j + 1)))
        wrong = rng.choice(np.array(["A", "C", "D"]), size=n)
        choices[f"q{j}"] = np.where(right, "B", wrong)
        keys[f"q{j}"] = "B"
    keys["q9"] = "A"
    choices_frame = pd.DataFrame(choices, index=ids)
    scores = pd.DataFrame({item: (choices_frame[item] == key).astype(float) for item, key in keys.items()})
    options = option_statistics(choices_frame, keys, scores)
    flags = item_statistics(scores, options=options).set_index("item")["flags"]
    assert "KEY_CHECK" in flags["q9"].split(";")
    assert "NEG_DISC" in flags["q9"].split(";")
    assert not any("KEY_CHECK" in flags[f"q{j}"] for j in range(9))


def test_a_distractor_chosen_by_two_percent_is_weak():
    # 100 candidates: D chosen by 2, C by 5 (not below 5%), the rest A (key) or B.
    choice = ["D"] * 2 + ["C"] * 5 + ["B"] * 33 + ["A"] * 60
    ids = pd.Index([f"c{k:03d}" for k in range(100)])
    choices = pd.DataFrame({"q1": choice}, index=ids)
    rng = np.random.default_rng(2)
    scores = pd.DataFrame({"q1": [1.0 if c == "A" else 0.0 for c in choice], "q2": rng.integers(0, 2, 100).astype(float)}, index=ids)
    options = option_statistics(choices, {"q1": "A"}, scores)
    assert options.set_index("option").loc["D", "proportion"] == 0.02
    assert "WEAK_DISTRACTOR" in item_statistics(scores, options=options).set_index("item").loc["q1", "flags"]
    options_without_d = options[options["option"] != "D"]
    assert "WEAK_DISTRACTOR" not in item_statistics(scores, options=options_without_d).loc[0, "flags"]


def test_the_ctt_examples_two_percent_distractor_is_weak():
    choices, keys, scores = ctt_raw()
    flags = item_statistics(scores, options=option_statistics(choices, keys, scores)).set_index("item")["flags"]
    # i6: D chosen by 2 of 100 (CTT rspP 0.02); i16 has r_item_rest 0.17 (psych r.drop).
    assert flags["i6"] == "WEAK_DISTRACTOR"
    assert flags["i16"] == "LOW_DISC"
    assert (flags.drop(["i6", "i16"]) == "").all()


# ---------------------------------------------------------------------------------------------
# Options


def test_blank_is_its_own_row_and_unchosen_options_are_listed():
    ids = pd.Index(["a", "b", "c", "d", "e"])
    choices = pd.DataFrame({"q1": ["A", "B", "", "A", np.nan]}, index=ids, dtype=object)
    scores = pd.DataFrame({"q1": [1.0, 0.0, np.nan, 1.0, np.nan], "q2": [1.0, 0.0, 1.0, 1.0, 0.0]}, index=ids)
    options = option_statistics(choices, {"q1": "A"}, scores, option_labels={"q1": ["A", "B", "C"]})
    assert list(options["option"]) == ["A", "B", "C", ""]
    assert list(options["n"]) == [2, 1, 0, 1]
    np.testing.assert_allclose(options["proportion"], [0.5, 0.25, 0.0, 0.25])  # of the 4 presented
    assert list(options["is_key"]) == [True, False, False, False]
    # The blank counts as presented and omitted in the item table.
    row = item_statistics(scores, omitted=(choices == "")).set_index("item").loc["q1"]
    assert (row["n"], row["omit_rate"]) == (4, 0.25)


def test_choices_and_scores_must_agree_on_who_saw_an_item():
    ids = pd.Index(["a", "b"])
    choices = pd.DataFrame({"q1": ["A", np.nan]}, index=ids, dtype=object)
    scores = pd.DataFrame({"q1": [1.0, 0.0], "q2": [1.0, 1.0]}, index=ids)
    with pytest.raises(ValueError, match="q1"):
        option_statistics(choices, {"q1": "A"}, scores)
    with pytest.raises(ValueError, match="no key"):
        option_statistics(choices, {}, scores)


def test_prepared_responses_give_the_same_tables_as_the_frames():
    choices, keys, scores = ctt_raw()
    omitted = choices == ""
    prepared = prepare(scores, None, omitted)
    pd.testing.assert_frame_equal(item_statistics(prepared), item_statistics(scores, None, omitted))
    pd.testing.assert_frame_equal(option_statistics(choices, keys, prepared), option_statistics(choices, keys, scores, None, omitted))
    assert test_statistics(prepared) == test_statistics(scores, None, omitted)


def test_prepared_responses_refuse_separate_omissions_and_blank_choices_they_do_not_omit():
    ids = pd.Index(["a", "b"])
    scores = pd.DataFrame({"q1": [1.0, 0.0], "q2": [1.0, 1.0]}, index=ids)
    prepared = prepare(scores)
    with pytest.raises(ValueError, match="pass them to prepare"):
        item_statistics(prepared, omitted=scores.isna())
    choices = pd.DataFrame({"q1": ["A", ""]}, index=ids, dtype=object)
    with pytest.raises(ValueError, match="q1: a choice left blank is not omitted"):
        option_statistics(choices, {"q1": "A"}, prepared)
    omitted = pd.DataFrame({"q1": [False, True], "q2": [False, False]}, index=ids)
    assert list(option_statistics(choices, {"q1": "A"}, prepare(scores, None, omitted))["n"]) == [1, 1]


# ---------------------------------------------------------------------------------------------
# Test statistics


def test_the_histogram_counts_candidates_per_total_mark():
    frame = scored("lsat6")
    stats = test_statistics(frame, pass_mark=4)
    totals = frame.sum(axis=1).astype(int)
    assert stats.scale == "marks" and stats.max_total == 5
    assert stats.histogram.edges == (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0)
    assert list(stats.histogram.counts) == list(np.bincount(totals, minlength=6))
    assert stats.pass_rate == pytest.approx((totals >= 4).mean())


def test_forms_of_different_max_marks_are_summarised_as_proportions():
    scores = pd.DataFrame({"q1": [1.0, 0.0, 1.0], "q2": [1.0, np.nan, 0.0]}, index=["a", "b", "c"])
    stats = test_statistics(scores)
    assert stats.scale == "proportion"
    assert stats.mean == pytest.approx((1.0 + 0.0 + 0.5) / 3)
    assert math.isnan(stats.alpha) and math.isnan(stats.sem)
    assert sum(stats.histogram.counts) == 3


# ---------------------------------------------------------------------------------------------
# Thresholds


def test_thresholds_default_to_the_guide():
    t = Thresholds()
    assert (t.hard, t.easy, t.low_disc, t.weak_distractor, t.alpha_up) == (0.20, 0.90, 0.20, 0.05, 0.01)
    assert (t.min_n_p, t.min_n_corr, t.upper_lower_share) == (30, 100, 0.27)


def test_thresholds_from_a_mapping_keep_unset_defaults():
    t = Thresholds.from_mapping({"hard": 0.15, "min_n_corr": 200})
    assert (t.hard, t.min_n_corr, t.easy) == (0.15, 200, 0.90)


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"hardd": 0.1}, "unknown threshold 'hardd'"),
        ({"hard": 1.5}, "'hard'"),
        ({"easy": -0.1}, "'easy'"),
        ({"low_disc": "0.2"}, "'low_disc'"),
        ({"min_n_p": 30.5}, "'min_n_p'"),
        ({"min_n_p": True}, "'min_n_p'"),
        ({"min_n_corr": 2}, "'min_n_corr'"),
        ({"upper_lower_share": 0.6}, "'upper_lower_share'"),
        ({"weak_distractor": math.nan}, "'weak_distractor'"),
        ({"hard": 0.95}, "'hard' (0.95) must be below 'easy'"),
    ],
)
def test_thresholds_refuse_unknown_keys_and_values_out_of_range(values, named):
    with pytest.raises(DataError) as error:
        Thresholds.from_mapping(values)
    assert named in str(error.value)


def test_every_threshold_problem_is_reported_with_its_file():
    with pytest.raises(DataError) as error:
        Thresholds.from_mapping({"hard": 2, "colour": "red", "min_n_p": 0}, Source("reports/thresholds.yaml", 3))
    assert len(error.value.problems) == 3
    assert all(str(p).startswith("reports/thresholds.yaml:3: ") for p in error.value.problems)


def test_thresholds_built_directly_are_checked_too():
    with pytest.raises(DataError, match="'alpha_up'"):
        Thresholds(alpha_up=-0.01)


def test_the_conventions_state_each_choice():
    text = " ".join(CONVENTIONS)
    for phrase in ("n - 1", "0.27", "candidate id", "own form", "fixed form", "pBis", "blank"):
        assert phrase in text
