"""The Angoff standard on the Rasch scale: theta_c where the expected score equals the ratings."""

from __future__ import annotations

import math

import pytest

from testengine.psychometrics.standard_setting import cut_ability, rasch_probability


def test_with_items_of_equal_difficulty_theta_c_is_b_plus_the_logit_of_the_mean_rating():
    # Closed form: 5 P(theta) = sum of ratings with every b = 0.4, so P = 0.62 and theta = 0.4 + logit(0.62).
    theta = cut_ability([0.4] * 5, [0.5, 0.6, 0.7, 0.6, 0.7])
    assert theta == pytest.approx(0.4 + math.log(0.62 / 0.38), abs=1e-9)


def test_the_expected_score_at_theta_c_equals_the_sum_of_ratings():
    difficulties, ratings = [-1.2, 0.0, 0.3, 1.5, 2.0], [0.9, 0.6, 0.55, 0.3, 0.2]
    theta = cut_ability(difficulties, ratings)
    assert sum(rasch_probability(b, theta) for b in difficulties) == pytest.approx(sum(ratings), abs=1e-9)


def test_ratings_that_would_put_the_standard_at_infinity_are_refused():
    with pytest.raises(ValueError, match="infinite"):
        cut_ability([0.0, 1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="one rating per"):
        cut_ability([0.0], [0.5, 0.5])
