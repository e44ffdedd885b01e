"""The empirical item characteristic curve follows the Rasch curve on data simulated from it."""

from __future__ import annotations

import math

import numpy as np

from testengine.psychometrics.characteristic import abilities, empirical_curve


def test_ml_ability_solves_the_score_equation_and_extreme_scores_have_none():
    b = np.array([-1.0, 0.0, 1.0, 0.5])
    responses = np.array([[1, 1, 0, np.nan], [0, 0, 0, 0], [1, 1, 1, 1]], dtype=float)
    theta = abilities(responses, b)
    expected = sum(1 / (1 + math.exp(bi - theta[0])) for bi in b[:3])
    assert abs(expected - 2.0) < 1e-8  # raw score 2 on the three items presented
    assert np.isnan(theta[1]) and np.isnan(theta[2])


def test_on_rasch_data_each_group_is_close_to_the_model_curve():
    rng = np.random.default_rng(5)
    b = rng.normal(0, 1, 30)
    theta = rng.normal(0, 1, 4000)
    responses = (rng.random((4000, 30)) < 1 / (1 + np.exp(b[None, :] - theta[:, None]))).astype(float)
    responses[rng.random((4000, 30)) < 0.3] = np.nan  # not every candidate was given every item
    curve = empirical_curve(responses, b, item=3)
    assert len(curve) == 8 and sum(n for _, _, n in curve) > 2000
    for mean_theta, observed, n in curve:
        model = 1 / (1 + math.exp(b[3] - mean_theta))
        assert abs(observed - model) < 3.5 * math.sqrt(model * (1 - model) / n) + 0.03
    assert curve[-1][1] - curve[0][1] > 0.4  # the most able group gets it right far more often
