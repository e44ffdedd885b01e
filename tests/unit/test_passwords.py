"""The staff password policy (services.passwords): length, no control characters, not the
account's name, and zxcvbn's guessability score of at least 3."""

import pytest

from testengine.services.passwords import password_problems


@pytest.mark.parametrize("password, expected", [
    ("short1!", "at least 10 characters"),
    ("x" * 201, "at most 200 characters"),
    ("password123!", "This is similar to a commonly used password"),
    ("qwertyuiop", "This is a top-100 common password"),
    ("aaaaaaaaaaaa", 'Repeats like "aaa" are easy to guess'),
    ("Priya Sharma", "must not be the account's username or name"),
    ("testengine2026", "too easy to guess"),  # the site's own name counts as a known word
    ("correct\x00horse battery", "control character U+0000"),
])
def test_weak_passwords_are_refused_with_the_reason(password, expected):
    problems = password_problems(password, "psharma", "Priya Sharma")
    assert len(problems) == 1 and expected in problems[0], problems


@pytest.mark.parametrize("password", ["correct horse battery staple", "demo-admin-password", "gravel-lantern-oyster"])
def test_long_unguessable_passwords_are_taken(password):
    assert password_problems(password, "psharma", "Priya Sharma") == []
