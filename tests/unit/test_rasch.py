"""Rasch calibration by conditional ML agrees with eRm and recovers the difficulties it was given.

Reference values: tests/reference_data/expected/ (copied from shared/reference-data),irt_lsat.csv, column cml_b_sum0: eRm 1.0-2
(R 4.2.2) RM(data, sum0 = TRUE), the item difficulties centred at 0, on LSAT6 (ltm) and LSAT7
(mirt). Standard errors and fit have no reference values there, so they are checked by their
properties on data simulated from known difficulties.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.special import logit

from testengine.domain.scoring import normalise, score
from testengine.psychometrics.rasch import calibrate
from testengine.psychometrics.simulation import simulated_response
from tests.factories import make_item

# The shared reference data, copied into the repository (tests/reference_data/README.md).
REFERENCE = Path(__file__).resolve().parents[1] / "reference_data"
# Our Newton solution has |gradient| < 1e-6; eRm's optimiser stops within about 4e-6 of it.
ERM_TOLERANCE = 1e-5


def simulate(theta: np.ndarray, b: np.ndarray, rng: np.random.Generator, a: np.ndarray | None = None) -> np.ndarray:
    """0/1 responses, P(right) = 1 / (1 + exp(-a (theta - b))); a = 1 is the Rasch model.

    This is the engine's simulator (simulation.p_right) with b = -logit(facility), vectorised.
    """
    slope = np.ones_like(b) if a is None else a
    p = 1.0 / (1.0 + np.exp(-slope * (theta[:, None] - b[None, :])))
    return (rng.random(p.shape) < p).astype(float)


def on_demand(x: np.ndarray, per_candidate: int, rng: np.random.Generator) -> np.ndarray:
    """Each candidate keeps a random `per_candidate` of the pool; the rest were never presented."""
    keep = np.argsort(rng.random(x.shape), axis=1)[:, :per_candidate]
    out = np.full(x.shape, np.nan)
    rows = np.arange(x.shape[0])[:, None]
    out[rows, keep] = x[rows, keep]
    return out


@pytest.mark.parametrize(("name", "data_file"), [("lsat6", "lsat6_ltm.csv"), ("lsat7", "lsat7_mirt.csv")])
def test_lsat_difficulties_match_erm_conditional_ml(name, data_file):
    expected = pd.read_csv(REFERENCE / "expected" / "irt_lsat.csv")
    expected = expected[expected["dataset"] == name]
    result = calibrate(pd.read_csv(REFERENCE / data_file))
    assert list(result.items) == list(expected["item"])
    assert result.difficulty == pytest.approx(expected["cml_b_sum0"].to_numpy(), abs=ERM_TOLERANCE)
    assert result.converged
    assert result.difficulty.sum() == pytest.approx(0.0, abs=1e-12)
    assert result.method == "conditional ML (Newton-Raphson), sum-zero centring"


def test_lsat6_leaves_out_the_candidates_with_zero_or_perfect_scores():
    frame = pd.read_csv(REFERENCE / "lsat6_ltm.csv")
    totals = frame.sum(axis=1)
    result = calibrate(frame)
    assert result.n_candidates == 1000
    assert result.n_calibration == int(((totals > 0) & (totals < 5)).sum()) == 699
    assert list(result.n) == [699] * 5
    assert list(result.to_frame().columns) == ["item", "b", "se", "infit", "outfit", "n", "n_presented", "anchored", "note"]


def brute_force_log_likelihood(x: np.ndarray, b: np.ndarray) -> float:
    """Conditional log-likelihood by enumerating every response pattern with each candidate's score."""
    total = 0.0
    for row in x:
        shown = np.flatnonzero(~np.isnan(row))
        r = int(np.nansum(row))
        if r == 0 or r == shown.size:
            continue
        gamma = sum(math.exp(-b[list(c)].sum()) for c in itertools.combinations(shown, r))
        total += -float(b[shown] @ row[shown]) - math.log(gamma)
    return total


def test_missing_data_are_conditioned_on_each_candidates_own_items():
    rng = np.random.default_rng(11)
    true_b = np.array([-1.0, -0.5, 0.0, 0.3, 0.8, 1.2])
    x = on_demand(simulate(rng.normal(0, 1, 300), true_b, rng), 4, rng)
    x[:100, 5] = np.nan  # a few candidates with 3 items
    result = calibrate(x)

    def negative(free: np.ndarray) -> float:
        return -brute_force_log_likelihood(x, np.append(free, -free.sum()))

    best = minimize(negative, np.zeros(5), method="BFGS", options={"gtol": 1e-9})
    brute = np.append(best.x, -best.x.sum())
    assert result.difficulty == pytest.approx(brute, abs=1e-5)
    assert result.log_likelihood == pytest.approx(brute_force_log_likelihood(x, result.difficulty), abs=1e-8)

    # Standard errors: the inverse of a numerical Hessian of the brute-force likelihood, with
    # the sum-zero constraint (parameters: the first 5 items, the 6th is minus their sum).
    h, b0 = 1e-4, result.difficulty[:5]
    hessian = np.zeros((5, 5))
    for i, j in itertools.product(range(5), repeat=2):
        e_i, e_j = np.eye(5)[i] * h, np.eye(5)[j] * h
        hessian[i, j] = (
            negative(b0 + e_i + e_j) - negative(b0 + e_i - e_j) - negative(b0 - e_i + e_j) + negative(b0 - e_i - e_j)
        ) / (4 * h * h)
    cov5 = np.linalg.inv(hessian)
    last = np.full(5, -1.0)
    se = np.sqrt(np.append(np.diag(cov5), last @ cov5 @ last))
    assert result.se == pytest.approx(se, rel=1e-4)


def test_difficulties_are_recovered_from_2000_candidates_on_30_items():
    rng = np.random.default_rng(2024)
    true_b = rng.normal(0, 1, 30)
    result = calibrate(simulate(rng.normal(0, 1, 2000), true_b, rng))
    centred = true_b - true_b.mean()
    rmse = float(np.sqrt(np.mean((result.difficulty - centred) ** 2)))
    # Seed 2024 gives r = 0.998 and RMSE = 0.062 logits; the mean SE is 0.052.
    assert np.corrcoef(result.difficulty, centred)[0, 1] > 0.98
    assert rmse < 0.08
    assert rmse == pytest.approx(float(np.sqrt(np.mean(result.se**2))), rel=0.3)


def test_difficulties_are_recovered_when_each_candidate_sits_20_of_60_items():
    rng = np.random.default_rng(7)
    true_b = rng.normal(0, 1, 60)
    x = on_demand(simulate(rng.normal(0, 1, 3000), true_b, rng), 20, rng)
    result = calibrate(x)
    centred = true_b - true_b.mean()
    rmse = float(np.sqrt(np.mean((result.difficulty - centred) ** 2)))
    # Seed 7 gives r = 0.997 and RMSE = 0.069 logits (mean SE 0.075) from about 1,000 responses an item.
    assert np.corrcoef(result.difficulty, centred)[0, 1] > 0.98
    assert rmse < 0.1
    assert result.converged
    assert (result.n_presented > 850).all()


def test_a_large_on_demand_pool_calibrates_through_the_vectorised_path():
    rng = np.random.default_rng(3)
    true_b = rng.normal(0, 1, 300)
    x = on_demand(simulate(rng.normal(0, 1, 20_000), true_b, rng), 30, rng)
    result = calibrate(x)
    centred = true_b - true_b.mean()
    assert result.converged
    assert np.corrcoef(result.difficulty, centred)[0, 1] > 0.98
    assert np.max(np.abs(result.difficulty - centred)) < 5 * np.max(result.se)


def test_the_engines_simulator_facility_is_a_rasch_difficulty_of_minus_logit_p():
    rng = np.random.default_rng(5)
    facilities = np.linspace(0.25, 0.9, 12)
    items = [make_item(n, facility=float(f)) for n, f in enumerate(facilities, start=1)]
    theta = rng.normal(0, 1, 1500)
    x = np.array([[score(item, normalise(item, simulated_response(item, t, rng, omit_rate=0.0))) for item in items] for t in theta])
    result = calibrate(x.astype(float))
    b = -logit(facilities)
    assert np.corrcoef(result.difficulty, b - b.mean())[0, 1] > 0.98
    assert result.difficulty == pytest.approx(b - b.mean(), abs=0.25)


def test_standard_errors_shrink_as_one_over_root_n():
    rng = np.random.default_rng(1)
    true_b = np.linspace(-1.5, 1.5, 10)
    small = calibrate(simulate(rng.normal(0, 1, 500), true_b, rng))
    large = calibrate(simulate(rng.normal(0, 1, 4000), true_b, rng))
    assert (large.se < small.se).all()
    assert np.mean(small.se / large.se) == pytest.approx(math.sqrt(8), rel=0.1)


def test_standard_errors_match_the_spread_of_estimates_over_replications():
    rng = np.random.default_rng(99)
    true_b = np.linspace(-1.5, 1.5, 10)
    runs = [calibrate(simulate(rng.normal(0, 1, 400), true_b, rng)) for _ in range(150)]
    spread = np.std([run.difficulty for run in runs], axis=0, ddof=1)
    stated = np.mean([run.se for run in runs], axis=0)
    # 150 replications estimate an SD to about 6%.
    assert np.mean(spread / stated) == pytest.approx(1.0, abs=0.07)
    assert spread / stated == pytest.approx(np.ones(10), abs=0.2)


def test_infit_and_outfit_are_near_one_for_rasch_items_and_not_for_others():
    rng = np.random.default_rng(8)
    true_b = np.linspace(-1.5, 1.5, 20)
    slopes = np.ones(20)
    slopes[4] = 3.0  # discriminates far more than the model expects: overfit, mean squares < 1
    slopes[15] = 0.3  # far less: underfit, mean squares > 1
    result = calibrate(simulate(rng.normal(0, 1, 3000), true_b, rng, slopes))
    rasch = np.ones(20, dtype=bool)
    rasch[[4, 15]] = False
    assert result.infit[rasch] == pytest.approx(np.ones(18), abs=0.1)
    assert result.outfit[rasch] == pytest.approx(np.ones(18), abs=0.15)
    assert result.infit[4] < 0.8 and result.outfit[4] < 0.8
    assert result.infit[15] > 1.2 and result.outfit[15] > 1.2


def test_person_separation_reliability_grows_with_test_length():
    rng = np.random.default_rng(4)
    theta = rng.normal(0, 1, 2000)
    short = calibrate(simulate(theta, np.linspace(-1.5, 1.5, 10), rng))
    long = calibrate(simulate(theta, np.linspace(-1.5, 1.5, 40), rng))
    assert 0.0 < short.reliability < long.reliability < 1.0
    # For N(0, 1) abilities, 40 items spread over +-1.5 logits give a reliability near 0.85 (0.87 here).
    assert long.reliability == pytest.approx(0.85, abs=0.06)


def test_items_everyone_got_right_or_wrong_are_reported_not_estimable():
    rng = np.random.default_rng(6)
    x = simulate(rng.normal(0, 1, 800), np.linspace(-1, 1, 8), rng)
    frame = pd.DataFrame(x, columns=[f"I{n}" for n in range(8)])
    frame["EASY"] = 1.0
    frame["HARD"] = 0.0
    frame["UNSEEN"] = np.nan
    result = calibrate(frame)
    assert set(result.not_estimable) == {"EASY", "HARD", "UNSEEN"}
    assert "answered right by every" in result.not_estimable["EASY"]
    assert "answered wrong by every" in result.not_estimable["HARD"]
    assert result.not_estimable["UNSEEN"] == "never presented"
    assert list(result.estimable) == [True] * 8 + [False] * 3
    assert np.isnan(result.difficulty[8:]).all() and np.isnan(result.se[8:]).all()
    # Dropping them is CML on the remaining items: the same estimates as without them.
    assert result.difficulty[:8] == pytest.approx(calibrate(x).difficulty, abs=1e-9)
    assert result.to_frame().loc[8, "note"] == result.not_estimable["EASY"]


def test_items_answered_by_separate_candidates_cannot_share_a_scale():
    rng = np.random.default_rng(9)
    x = np.full((1000, 10), np.nan)
    x[:600, :6] = simulate(rng.normal(0, 1, 600), np.linspace(-1, 1, 6), rng)
    x[600:, 6:] = simulate(rng.normal(0, 1, 400), np.linspace(-1, 1, 4), rng)
    result = calibrate(x)
    assert result.estimable[:6].all()
    assert sorted(result.not_estimable) == [6, 7, 8, 9]
    assert all(reason.startswith("not linked") for reason in result.not_estimable.values())
    assert result.n_calibration < 600


def test_anchored_items_fix_the_scale_of_new_items():
    rng = np.random.default_rng(10)
    x = simulate(rng.normal(0, 1, 1500), np.linspace(-1.2, 1.2, 12), rng)
    free = calibrate(x)
    anchors = {i: float(free.difficulty[i]) + 0.5 for i in range(6)}
    anchored = calibrate(x, anchors=anchors)
    assert anchored.method == "conditional ML (Newton-Raphson), anchored on 6 items"
    assert anchored.difficulty[:6] == pytest.approx(free.difficulty[:6] + 0.5, abs=1e-12)
    # Anchors consistent with the data leave the free items where CML puts them, moved with the scale.
    assert anchored.difficulty[6:] == pytest.approx(free.difficulty[6:] + 0.5, abs=1e-6)
    assert np.isnan(anchored.se[:6]).all() and (anchored.se[6:] > 0).all()
    assert anchored.anchored[:6].all() and not anchored.anchored[6:].any()
    with pytest.raises(ValueError, match="not an item"):
        calibrate(x, anchors={"missing": 0.0})


def test_responses_other_than_0_1_or_missing_are_refused():
    with pytest.raises(ValueError, match="0, 1 or NaN"):
        calibrate(np.array([[0.0, 2.0], [1.0, 0.0]]))


@pytest.mark.parametrize("shape", [(0, 0), (5, 0), (0, 3)])
def test_an_empty_matrix_gives_an_empty_calibration_not_an_error(shape):
    calibration = calibrate(np.empty(shape))
    assert not calibration.converged and calibration.difficulty.shape == (shape[1],)
    assert np.isnan(calibration.difficulty).all() and len(calibration.not_estimable) == (shape[1] if shape[0] == 0 else 0)
