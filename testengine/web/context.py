"""What every handler needs: the app's services and settings, rendering, and request checks."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from testengine.domain.conduct import ConductPolicy
from testengine.domain.text import control_character_problem
from testengine.services.assembly import Assembler
from testengine.services.catalogue import Catalogue
from testengine.settings import Settings
from testengine.web.answer_queue import AnswerQueue
from testengine.web.check_ins import CheckIns
from testengine.web.cookies import CookieJar, csrf_matches

MAX_FORM_BYTES = 2 * 1024 * 1024


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    catalogue: Catalogue
    assembler: Assembler
    policy: ConductPolicy
    cookies: CookieJar
    templates: Jinja2Templates
    clock: Callable[[], datetime]
    rng: random.Random
    answers: AnswerQueue
    check_ins: CheckIns


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def render(request: Request, template: str, values: dict[str, Any], status_code: int = 200) -> Response:
    return context(request).templates.TemplateResponse(request, template, values, status_code=status_code)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


async def checked_form(request: Request, expected_csrf: str | None) -> dict[str, Any]:
    """The posted form, after the CSRF check (403 without a matching token) and a size limit."""
    length = int(request.headers.get("content-length") or 0)
    if length > MAX_FORM_BYTES:
        raise HTTPException(413, "That request is too large.")
    form = await request.form()
    given = request.headers.get("X-CSRF-Token") or form.get("csrf_token")
    if not csrf_matches(expected_csrf, str(given) if given else None):
        raise HTTPException(403, "This form has expired or did not come from this site. Go back, reload the page and try again.")
    _refuse_control_characters((key, value) for key, value in form.multi_items())
    return {key: form.getlist(key) if len(form.getlist(key)) > 1 else form.get(key) for key in form.keys()}


def _refuse_control_characters(fields: Iterable[tuple[str, Any]]) -> None:
    """400 naming the first field whose text holds a control character (see domain.text)."""
    for name, value in fields:
        for text in (name, value) if isinstance(value, str) else (name,):
            problem = control_character_problem(name[:80], text)
            if problem:
                raise HTTPException(400, f"Nothing was saved. {problem}.")


def _json_texts(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (path, text) in a parsed JSON value: object keys and string values alike."""
    if isinstance(value, dict):
        for key, inner in value.items():
            here = f"{path}.{key}" if path else str(key)
            yield here, key
            yield from _json_texts(inner, here)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _json_texts(inner, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


MAX_JSON_BYTES = 64 * 1024  # the player's calls: an answer is a few hundred bytes


async def small_json(request: Request, limit: int = MAX_JSON_BYTES) -> Any:
    """The JSON object a player's call sends: 413 above `limit` bytes (declared or actually sent,
    so a chunked upload cannot get round it), ValueError if it is not a JSON object."""
    if int(request.headers.get("content-length") or 0) > limit:
        raise HTTPException(413, "That request is too large.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, "That request is too large.")
    parsed = json.loads(body)
    if not isinstance(parsed, dict):
        raise ValueError("the body is not a JSON object")
    _refuse_control_characters(_json_texts(parsed))
    return parsed


def check_csrf_header(request: Request, expected_csrf: str | None) -> None:
    if not csrf_matches(expected_csrf, request.headers.get("X-CSRF-Token")):
        raise HTTPException(403, "Missing or wrong CSRF token.")
