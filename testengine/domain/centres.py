"""Centres and their people: staff roles, candidates' access arrangements, keycodes."""

from __future__ import annotations

import hmac

import random
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CENTRE_ADMIN = "centre_admin"
    INVIGILATOR = "invigilator"
    ITEM_WRITER = "item_writer"
    ANALYST = "analyst"

    @property
    def label(self) -> str:
        return {
            Role.CENTRE_ADMIN: "Centre administrator",
            Role.INVIGILATOR: "Invigilator",
            Role.ITEM_WRITER: "Item writer",
            Role.ANALYST: "Psychometric analyst",
        }[self]

    @property
    def belongs_to_centre(self) -> bool:
        """Writers and analysts work for the awarding body, not for a centre."""
        return self in (Role.CENTRE_ADMIN, Role.INVIGILATOR)


@dataclass(frozen=True)
class Actor:
    """A signed-in member of staff, as the services see them."""

    staff_id: int
    username: str
    role: Role
    centre_id: int | None


# Keycodes avoid characters that are easily confused when read off a slip (0/O, 1/I/L, 5/S).
KEYCODE_ALPHABET = "ABCDEFGHJKMNPQRTUVWXYZ2346789"
KEYCODE_LENGTH = 8


def new_keycode(rng: random.Random) -> str:
    """A keycode such as 'K7PQ-3MXD': 8 characters, about 39 bits, shown in two groups."""
    raw = "".join(rng.choice(KEYCODE_ALPHABET) for _ in range(KEYCODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_keycode(text: str) -> str:
    """What a candidate typed, forgiving case, spaces and a missing or extra dash."""
    raw = "".join(c for c in text.upper() if c.isalnum())
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == KEYCODE_LENGTH else raw


@dataclass(frozen=True)
class Arrangements:
    """Access arrangements agreed before the sitting (A10, E1, E2, E6)."""

    extra_time_percent: int = 0
    extra_time_reference: str = ""
    rest_breaks: bool = False
    separate_invigilation: bool = False
    reader: bool = False
    display_needs: str = ""

    @property
    def any(self) -> bool:
        return bool(self.extra_time_percent or self.rest_breaks or self.separate_invigilation or self.reader or self.display_needs)

    def summary(self) -> str:
        parts = []
        if self.extra_time_percent:
            parts.append(f"{self.extra_time_percent}% extra time")
        if self.rest_breaks:
            parts.append("rest breaks")
        if self.separate_invigilation:
            parts.append("separate invigilation")
        if self.reader:
            parts.append("reader")
        if self.display_needs:
            parts.append(self.display_needs)
        return ", ".join(parts)


# Gender as the centre records it, optional: used only for differential item functioning
# (an item that favours one group of candidates of the same ability), and only in aggregate.
GENDERS = ("female", "male", "other")


def gender_problems(value: str) -> list[str]:
    """What is wrong with a recorded gender ("" = not recorded)."""
    if value and value not in GENDERS:
        return [f"gender {value!r}: use {', '.join(GENDERS)}, or leave it blank"]
    return []


def pin_matches(expected: str | None, given: str) -> bool:
    """The session PIN (A5) typed by a candidate, compared in constant time."""
    return expected is not None and hmac.compare_digest(expected.encode(), given.strip().encode())
