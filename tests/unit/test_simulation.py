import numpy as np
import pytest

from testengine.domain.items import ScoringRule
from testengine.domain.scoring import normalise, score
from testengine.psychometrics.simulation import p_right, simulated_response
from tests.factories import make_item, matching_item, multiple_item, ordering_item


def test_an_average_candidate_answers_with_the_writers_facility():
    assert p_right(0.0, 0.7) == pytest.approx(0.7)
    assert p_right(1.0, 0.7) > 0.7 > p_right(-1.0, 0.7)


@pytest.mark.parametrize(
    "item",
    [
        make_item(1, facility=0.7),
        multiple_item(2, marks=2, facility=0.7),
        ordering_item(3, facility=0.7),
        matching_item(4, facility=0.7),
        matching_item(5, marks=3, scoring=ScoringRule.PARTIAL, facility=0.7),
    ],
)
def test_simulated_answers_are_valid_and_score_the_facility_at_average_ability(item):
    rng = np.random.default_rng(5)
    shares = []
    for _ in range(4000):
        raw = simulated_response(item, 0.0, rng, omit_rate=0.0)
        shares.append(score(item, normalise(item, raw)) / item.marks)
    # 4,000 draws: the standard error of a share near 0.7 is under 0.01.
    assert np.mean(shares) == pytest.approx(0.7, abs=0.04)


def test_some_answers_are_omitted():
    rng = np.random.default_rng(1)
    answers = [simulated_response(make_item(1), 0.0, rng, omit_rate=0.1) for _ in range(2000)]
    assert 0.07 < sum(a is None for a in answers) / 2000 < 0.13
