"""`testengine analyse` on response data from elsewhere: the files it writes agree with R, and
bad input is refused naming the file, row and column.

Reference values: tests/reference_data/expected/ (R 4.2.2: psych 2.2.9, CTT 2.3.3, eRm 1.0-2)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from testengine.cli import main

DATA = Path(__file__).resolve().parents[1] / "reference_data"
EXPECTED = DATA / "expected"
SAT12_KEY = "1,4,5,2,3,1,2,1,3,1,2,4,2,1,5,3,4,4,1,4,3,3,4,1,3,5,1,3,1,5,4,5".split(",")  # mirt's SAT12 key


def analyse(*args: str):
    return CliRunner().invoke(main, ["analyse", *args], catch_exceptions=False)


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_option_data_with_a_key_agrees_with_ctt_and_psych(tmp_path):
    result = analyse("--responses", str(DATA / "ctt_cttdata_raw.csv"), "--key", str(DATA / "ctt_cttkey.csv"), "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert {p.name for p in tmp_path.iterdir()} == {"items.csv", "options.csv", "test.csv", "rasch.csv", "report.html"}
    items = pd.read_csv(tmp_path / "items.csv").set_index("item")
    expected = pd.read_csv(EXPECTED / "cttdata_items_psych_CTT.csv").set_index("item")
    for ours, theirs in (("p", "p"), ("sd", "sd_item"), ("r_item_total", "r_total_raw"), ("r_item_rest", "r_item_rest"),
                         ("alpha_if_deleted", "alpha_if_deleted")):
        assert items[ours].to_numpy() == pytest.approx(expected[theirs].to_numpy(), abs=1e-6), ours
    test = pd.read_csv(tmp_path / "test.csv").iloc[0]
    level = pd.read_csv(EXPECTED / "test_level_psych.csv").set_index("dataset").loc["cttdata"]
    assert (test["alpha"], test["sem"], test["mean"], test["sd"]) == pytest.approx(
        (level["raw_alpha"], level["SEM"], level["mean_total"], level["sd_total"]), abs=1e-6)
    options = pd.read_csv(tmp_path / "options.csv", keep_default_na=False)
    distractors = pd.read_csv(EXPECTED / "cttdata_distractorAnalysis_CTT.csv")
    merged = distractors.merge(options, left_on=["item", "key"], right_on=["item", "option"])
    assert len(merged) == 80
    assert merged["r_option_rest"].astype(float).to_numpy() == pytest.approx(merged["pBis"].to_numpy(), abs=1e-6)
    assert merged["proportion"].astype(float).to_numpy() == pytest.approx(merged["rspP"].to_numpy(), abs=1e-6)
    report = (tmp_path / "report.html").read_text()
    assert "Conventions and settings used" in report and "reports/analysis.yaml" in report and "conditional" in report


def test_scored_data_gives_rasch_difficulties_that_agree_with_erm(tmp_path):
    result = analyse("--responses", str(DATA / "lsat6_ltm.csv"), "--scored", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    rasch = pd.read_csv(tmp_path / "rasch.csv")
    expected = pd.read_csv(EXPECTED / "irt_lsat.csv").query("dataset == 'lsat6'")
    assert rasch["b"].to_numpy() == pytest.approx(expected["cml_b_sum0"].to_numpy(), abs=1e-4)  # eRm's own stopping tolerance
    assert not (tmp_path / "options.csv").exists()


def test_an_omit_code_counts_as_omitted_and_scores_zero(tmp_path):
    key = write(tmp_path / "key.csv", [["item", "key"], *([f"Item.{i + 1}", k] for i, k in enumerate(SAT12_KEY))])
    result = analyse("--responses", str(DATA / "sat12_raw_mirt.csv"), "--key", str(key), "--omit", "8", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    items = pd.read_csv(tmp_path / "out" / "items.csv")
    raw = pd.read_csv(DATA / "sat12_raw_mirt.csv")
    assert items["omit_rate"].to_numpy() == pytest.approx((raw == 8).mean().to_numpy())
    assert items["n"].eq(600).all()


def test_groups_give_mantel_haenszel_dif_with_ets_classes(tmp_path):
    raw = pd.read_csv(DATA / "lsat7_mirt.csv")
    responses = tmp_path / "lsat7.csv"
    raw.insert(0, "candidate_id", [f"c{i}" for i in range(len(raw))])
    raw.to_csv(responses, index=False)
    chance = random.Random(4)
    groups = write(tmp_path / "groups.csv", [["candidate_id", "group"], *([f"c{i}", chance.choice("MF")] for i in range(len(raw)))])
    result = analyse("--responses", str(responses), "--scored", "--groups", str(groups), "--reference", "M", "--focal", "F",
                     "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    dif = pd.read_csv(tmp_path / "out" / "dif.csv", keep_default_na=False)
    assert list(dif.columns) == ["item", "alpha_mh", "d_dif", "se", "chi2", "p_value", "ets_class"]
    assert set(dif["ets_class"]) <= {"A", "B+", "B-", "C+", "C-"} and (dif["ets_class"] == "A").sum() >= 4  # random groups
    assert "reference group \"M\"" in (tmp_path / "out" / "report.html").read_text().replace("&#34;", '"')


@pytest.mark.parametrize(
    ("responses", "key", "message"),
    [
        ([["i1", "i2"], ["A", "B"], ["A"]], [["item", "key"], ["i1", "A"], ["i2", "B"]], "responses.csv:3: row has 1 cells, the header has 2 (ragged row)"),
        ([["i1", "i2"], ["A", "B"]], [["item", "key"], ["i1", "A"], ["i2", "B"], ["i9", "C"]], "key.csv:4: item 'i9' is not a column of the responses file"),
        ([["i1", "i2"], ["A", "B"], ["C", "B"]], [["item", "key"], ["i1", "D"], ["i2", "B"]], "key.csv:2: item 'i1': key 'D' is not an option anyone chose"),
        ([], [["item", "key"]], "responses.csv: the file is empty"),
        ([["i1", "i1"], ["A", "B"]], [["item", "key"], ["i1", "A"]], "responses.csv:1: column 2: item 'i1' appears twice in the header"),
    ],
)
def test_bad_input_is_refused_naming_the_file_row_and_column(tmp_path, responses, key, message):
    result = analyse("--responses", str(write(tmp_path / "responses.csv", responses)), "--key", str(write(tmp_path / "key.csv", key)),
                     "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert message in result.output
    assert not (tmp_path / "out").exists()


def test_scored_data_must_be_zero_one_and_dif_needs_both_group_names(tmp_path):
    responses = write(tmp_path / "r.csv", [["candidate_id", "q1", "q2"], ["a", "1", "0"], ["b", "A", "NA"]])
    result = analyse("--responses", str(responses), "--scored", "--out", str(tmp_path / "out"))
    assert result.exit_code == 1 and "r.csv:3: column 'q1': 'A' is not 0, 1, empty or NA (--scored)" in result.output
    groups = write(tmp_path / "g.csv", [["candidate_id", "group"], ["a", "M"]])
    result = analyse("--responses", str(responses), "--scored", "--groups", str(groups), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1 and "--groups needs --reference and --focal" in result.output
    assert analyse("--responses", str(responses), "--out", str(tmp_path / "out")).exit_code == 1  # neither --key nor --scored
