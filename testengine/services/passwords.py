"""What a staff password must be (NIST SP 800-63B: length, and a check against what attackers
try first; no composition rules): 10-200 characters, no control characters, not the account's
own name, and not guessable. Guessability is zxcvbn's estimate, which knows the common-password
lists, dictionary words, keyboard runs, dates and repeats, and is given the account's names and
this site's words. A score below 3 ("safely unguessable: moderate protection from offline
attack") is refused with zxcvbn's reason and suggestions."""

from __future__ import annotations

from zxcvbn import zxcvbn

from testengine.domain.text import control_character_problem

MIN_LENGTH = 10
MAX_LENGTH = 200  # hashing is deliberately slow: no megabyte passwords
MIN_SCORE = 3
# Words an attacker would try first against this site's accounts.
SITE_WORDS = ("testengine", "btec", "pearson", "customer", "service", "invigilator", "exam")


def password_problems(password: str, username: str = "", display_name: str = "") -> list[str]:
    """Every reason `password` cannot be used; empty when it can."""
    if len(password) < MIN_LENGTH:
        return [f"the password needs at least {MIN_LENGTH} characters (a few unrelated words make a good one)"]
    if len(password) > MAX_LENGTH:
        return [f"the password can have at most {MAX_LENGTH} characters"]
    control = control_character_problem("the password", password)
    if control:
        return [control]
    names = [n for n in (username, *display_name.split()) if len(n) >= 3]
    if password.casefold() in {n.casefold() for n in (username, display_name)}:
        return ["the password must not be the account's username or name"]
    verdict = zxcvbn(password, user_inputs=[*names, *SITE_WORDS])
    if verdict["score"] >= MIN_SCORE:
        return []
    feedback = verdict["feedback"]
    return [" ".join(["the password is too easy to guess.", *filter(None, [feedback["warning"]]), *feedback["suggestions"]])]
