"""The errors services raise for the web and the command line to turn into answers."""

from __future__ import annotations


class NotFound(LookupError):
    """No such thing, or not one this user may know about (other centres' data look absent)."""


class Forbidden(PermissionError):
    """The user's role does not allow this."""


class InvalidInput(ValueError):
    """What the user entered is wrong: each message says what and where."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("; ".join(messages))
