"""What free text may hold: printable characters, tabs and line breaks, nothing else.

A NUL cannot be stored in PostgreSQL at all, and the other control characters are never typed
by a person: they come from damaged files or from tampering, so they are refused where text
comes in, naming the field and the character."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def control_character_problem(field: str, text: str) -> str | None:
    """Why `text` cannot be taken for `field`, or None if it can."""
    found = _CONTROL.search(text)
    if found is None:
        return None
    return f"{field}: contains the control character U+{ord(found.group()):04X}, which cannot be stored; remove it"
