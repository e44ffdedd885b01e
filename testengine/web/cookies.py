"""Signed cookies (itsdangerous, one salt per purpose, max_age enforced) and CSRF tokens.

A cookie only names who is signed in; the server decides whether that still holds (a staff
cookie carries the account's session version, a candidate cookie the browser's device token).
Each cookie also carries a random CSRF token, which every state-changing request must echo in
a form field or the X-CSRF-Token header (htmx sends the header from the page's hx-headers).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

STAFF = ("te_staff", "staff-session", 12 * 3600)
CANDIDATE = ("te_candidate", "candidate-session", 10 * 3600)
ANONYMOUS = ("te_anon", "anonymous-csrf", 2 * 3600)
SECOND_FACTOR = ("te_code", "second-factor", 5 * 60)  # a right password, waiting for its code
DISPLAY = "te_display"


class CookieJar:
    def __init__(self, keys: tuple[str, ...]) -> None:
        # itsdangerous signs with the last key and verifies with all: settings list newest first.
        self._keys = list(reversed(keys))

    def _serializer(self, salt: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self._keys, salt=salt)

    def read(self, request: Request, kind: tuple[str, str, int]) -> dict[str, Any] | None:
        name, salt, max_age = kind
        raw = request.cookies.get(name)
        if not raw:
            return None
        try:
            data = self._serializer(salt).loads(raw, max_age=max_age)
        except BadSignature:
            return None
        return data if isinstance(data, dict) else None

    def write(self, request: Request, response: Response, kind: tuple[str, str, int], data: dict[str, Any]) -> dict[str, Any]:
        name, salt, max_age = kind
        data = {**data, "csrf": data.get("csrf") or secrets.token_urlsafe(24)}
        response.set_cookie(
            name, self._serializer(salt).dumps(data), max_age=max_age, httponly=True, samesite="lax",
            secure=request.url.scheme == "https", path="/",
        )
        return data

    @staticmethod
    def clear(response: Response, kind: tuple[str, str, int]) -> None:
        response.delete_cookie(kind[0], path="/")


def csrf_matches(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))
