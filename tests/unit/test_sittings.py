from datetime import UTC, datetime, timedelta

import pytest

from testengine.domain.sittings import Event, Kind, SittingRuleError, Status, apply, replay

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def started(extra_percent=0, base_minutes=35, start=0.0):
    return [
        Event(Kind.LOGGED_IN, at(start - 5), "candidate"),
        Event(Kind.CONFIRMED, at(start - 4), "candidate"),
        Event(Kind.DECLARED, at(start - 3), "candidate"),
        Event(Kind.UNLOCKED, at(start - 1), "invigilator"),
        Event(Kind.STARTED, at(start), "candidate", data={"base_seconds": base_minutes * 60, "extra_percent": extra_percent}),
    ]


def test_the_deadline_is_start_plus_base_time():
    sitting = replay(started())
    assert sitting.status is Status.IN_PROGRESS
    assert sitting.deadline(at(10)) == at(35)
    assert sitting.remaining(at(10)) == timedelta(minutes=25)
    assert not sitting.is_overdue(at(34.99)) and sitting.is_overdue(at(35))


def test_a_pause_freezes_the_time_left_and_resume_restores_it_exactly():
    events = started() + [Event(Kind.PAUSED, at(10), "inv", "fire alarm")]
    paused = replay(events)
    assert paused.remaining(at(10)) == paused.remaining(at(40)) == timedelta(minutes=25)
    resumed = replay(events + [Event(Kind.RESUMED, at(40), "inv")])
    assert resumed.remaining(at(40)) == timedelta(minutes=25)
    assert resumed.deadline(at(41)) == at(65)


def test_extra_time_and_rest_breaks_combine_to_the_second():
    events = started(extra_percent=25, base_minutes=45) + [
        Event(Kind.BREAK_STARTED, at(20), "inv"),
        Event(Kind.BREAK_ENDED, at(20) + timedelta(minutes=7, seconds=13), "inv"),
        Event(Kind.TIME_ADDED, at(30), "inv", "workstation failure", {"seconds": 90}),
    ]
    sitting = replay(events)
    # 45 x 1.25 = 56:15, plus a 7:13 break, plus 1:30 added.
    assert sitting.deadline(at(31)) == at(0) + timedelta(minutes=56, seconds=15 + 7 * 60 + 13 + 90)


def test_a_late_arrival_gets_the_full_time_from_their_own_start():
    sitting = replay(started(start=22))
    assert sitting.deadline(at(23)) == at(22 + 35)


def test_submitting_while_paused_closes_the_pause():
    events = started() + [Event(Kind.PAUSED, at(5), "inv"), Event(Kind.SUBMITTED, at(8), "inv")]
    sitting = replay(events)
    assert sitting.status is Status.SUBMITTED and sitting.stopped_since is None
    assert sitting.paused_seconds == 180 and sitting.remaining(at(9)) == timedelta(0)


@pytest.mark.parametrize(
    "events, message",
    [
        ([Event(Kind.LOGGED_IN, at(0), "c"), Event(Kind.CONFIRMED, at(0), "c"), Event(Kind.DECLARED, at(0), "c"),
          Event(Kind.STARTED, at(0), "c", data={"base_seconds": 60})], "locked until the invigilator unlocks"),
        ([Event(Kind.LOGGED_IN, at(0), "c"), Event(Kind.DECLARED, at(0), "c")], "confirms their details"),
        (started() + [Event(Kind.RESUMED, at(1), "inv")], "cannot resume a sitting that is in progress"),
        (started() + [Event(Kind.SUBMITTED, at(1), "c"), Event(Kind.PAUSED, at(2), "inv")], "cannot pause a sitting that is submitted"),
        (started() + [Event(Kind.VOIDED, at(1), "inv", " ")], "needs a reason"),
        (started() + [Event(Kind.RELOGGED_IN, at(1), "c")], "needs the invigilator's approval"),
        (started() + [Event(Kind.TIME_ADDED, at(1), "inv", "x", {"seconds": 0})], "positive number"),
    ],
)
def test_actions_the_rules_forbid_are_refused_with_the_reason(events, message):
    with pytest.raises(SittingRuleError, match=message):
        replay(events)


def test_cancelling_at_the_confirmation_returns_to_booked_with_no_attempt():
    sitting = replay([Event(Kind.LOGGED_IN, at(0), "c"), Event(Kind.CANCELLED, at(1), "c")])
    assert sitting.status is Status.BOOKED and sitting.started_at is None


def test_thirty_candidates_paused_at_one_instant_each_keep_exactly_their_time():
    starts = [i * 0.5 for i in range(30)]
    sittings = [replay(started(extra_percent=25 if i % 3 == 0 else 0, start=s)) for i, s in enumerate(starts)]
    left_before = [s.remaining(at(30)) for s in sittings]
    paused = [apply(s, Event(Kind.PAUSED, at(30), "inv", "evacuation")) for s in sittings]
    resumed = [apply(s, Event(Kind.RESUMED, at(52), "inv")) for s in paused]
    assert [s.remaining(at(52)) for s in resumed] == left_before


def test_focus_losses_are_counted_without_changing_the_state():
    sitting = replay(started() + [Event(Kind.FOCUS_LOST, at(1), "c"), Event(Kind.FOCUS_LOST, at(2), "c")])
    assert sitting.focus_losses == 2 and sitting.status is Status.IN_PROGRESS
