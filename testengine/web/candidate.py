"""The candidate's pages: keycode, confirmation, declaration, instructions, waiting, the
player, review, finish and result. Each handler parses, calls one service and renders.

Without JavaScript every button posts the answer form, so a candidate can sit the whole test;
with it (static/player.js) answers are saved as they change, queued in the browser until the
server acknowledges them, and the clock is re-synced from the server.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from testengine.domain.centres import normalise_keycode
from testengine.domain.items import ItemType
from testengine.domain.sittings import FINAL, SittingRuleError, Status
from testengine.services import delivery
from testengine.services.assembly import AssemblyError
from testengine.services.delivery import AnswerRefused, AnswerSave, CandidateSession, LoginRefused, NotYours, QuestionView, SittingView
from testengine.web.context import check_csrf_header, checked_form, client_address, context, is_htmx, render, small_json
from testengine.web.cookies import ANONYMOUS, CANDIDATE, DISPLAY

SCHEMES = {"standard": "Standard", "cream": "Cream", "yellow": "Yellow", "lilac": "Lilac", "dark": "High contrast (dark)"}
SIZES = {"100": "Standard", "150": "Large (150%)", "200": "Largest (200%)"}


def _display(request: Request) -> dict[str, str]:
    scheme, _, size = (request.cookies.get(DISPLAY) or "standard:100").partition(":")
    return {"scheme": scheme if scheme in SCHEMES else "standard", "size": size if size in SIZES else "100"}


def _page(request: Request, template: str, values: dict[str, Any], csrf: str, status_code: int = 200) -> Response:
    return render(request, template, {**values, "csrf": csrf, "display": _display(request), "schemes": SCHEMES, "sizes": SIZES}, status_code)


def _who(request: Request) -> tuple[CandidateSession, str] | None:
    data = context(request).cookies.read(request, CANDIDATE)
    if not data or not isinstance(data.get("s"), int) or not isinstance(data.get("d"), str):
        return None
    return CandidateSession(data["s"], data["d"]), str(data["csrf"])


def _anonymous_csrf(request: Request) -> str | None:
    data = context(request).cookies.read(request, ANONYMOUS)
    return str(data["csrf"]) if data else None


def candidate_page(handler: Callable[[Request, CandidateSession, str], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """A page for a logged-in candidate: without the cookie, the keycode page; if another
    browser has taken the sitting over, say so and log this one out."""

    @functools.wraps(handler)
    async def page(request: Request) -> Response:
        found = _who(request)
        if found is None:
            return _go("/candidate")
        try:
            return await handler(request, *found)
        except NotYours as exc:
            return _logged_out(request, str(exc))

    return page


def candidate_api(handler: Callable[[Request, CandidateSession, str], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """A JSON endpoint of the player: 401 without the cookie, 409 once another browser holds the sitting."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        found = _who(request)
        if found is None:
            return JSONResponse({"message": "You are not logged in to a test."}, status_code=401)
        try:
            return await handler(request, *found)
        except NotYours as exc:
            return JSONResponse({"message": str(exc), "final": True}, status_code=409)

    return endpoint


def _where(view: SittingView) -> str:
    """The page a sitting in this state belongs on."""
    if view.status is Status.LOGGED_IN:
        return "/candidate/declaration" if view.confirmed else "/candidate/confirm"
    if view.status is Status.READY:
        return "/candidate/wait"
    if view.status is Status.IN_PROGRESS:
        return "/candidate/question/1"
    if view.status in (Status.PAUSED, Status.ON_BREAK):
        return "/candidate/paused"
    if view.status in FINAL:
        return "/candidate/result"
    return "/candidate"


def _go(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def _view(request: Request, who: CandidateSession) -> SittingView:
    ctx = context(request)
    return await run_in_threadpool(delivery.sitting_view, ctx.engine, ctx.catalogue, who, ctx.clock(), ctx.policy.warning_minutes)


def _logged_out(request: Request, message: str) -> Response:
    response = _page(request, "candidate/message.html", {"title": "Logged out", "message": message, "login_link": True}, "", 409)
    context(request).cookies.clear(response, CANDIDATE)
    return response


async def login(request: Request) -> Response:
    ctx = context(request)
    if request.method == "GET":
        token = _anonymous_csrf(request) or secrets.token_urlsafe(24)
        response = _page(request, "candidate/login.html", {"error": None}, token)
        ctx.cookies.write(request, response, ANONYMOUS, {"csrf": token})
        return response
    form = await checked_form(request, _anonymous_csrf(request))
    keycode = normalise_keycode(str(form.get("keycode") or ""))
    device = secrets.token_urlsafe(24)
    try:
        who = await run_in_threadpool(delivery.keycode_login, ctx.engine, keycode, ctx.clock(), client_address(request), device)
    except LoginRefused as refused:
        return _page(request, "candidate/login.html", {"error": str(refused), "keycode": form.get("keycode", "")}, _anonymous_csrf(request) or "", 400)
    response = _go("/candidate/confirm")
    ctx.cookies.write(request, response, CANDIDATE, {"s": who.sitting_id, "d": who.device})
    return response


@candidate_page
async def confirm(request: Request, who: CandidateSession, csrf: str) -> Response:
    ctx = context(request)
    view = await _view(request, who)
    if request.method == "POST":
        await checked_form(request, csrf)
        await run_in_threadpool(delivery.confirm_details, ctx.engine, who, ctx.clock(), client_address(request))
        return _go("/candidate/declaration")
    if view.status is not Status.LOGGED_IN or view.confirmed:
        return _go(_where(view))
    return _page(request, "candidate/confirm.html", {"view": view}, csrf)


@candidate_page
async def cancel(request: Request, who: CandidateSession, csrf: str) -> Response:
    ctx = context(request)
    await checked_form(request, csrf)
    try:
        await run_in_threadpool(delivery.cancel_login, ctx.engine, who, ctx.clock(), client_address(request))
    except SittingRuleError as exc:
        return _logged_out(request, str(exc))
    response = _page(
        request, "candidate/message.html",
        {"title": "Not your details", "message": "You have been logged out and no test has been started. Tell the invigilator that the details shown were not yours.", "login_link": True},
        "",
    )
    ctx.cookies.clear(response, CANDIDATE)
    return response


@candidate_page
async def declaration(request: Request, who: CandidateSession, csrf: str) -> Response:
    ctx = context(request)
    view = await _view(request, who)
    if view.status is not Status.LOGGED_IN or not view.confirmed:
        return _go(_where(view))
    if request.method == "POST":
        form = await checked_form(request, csrf)
        if form.get("agree") != "yes":
            return _page(request, "candidate/declaration.html", {"view": view, "error": "Tick the box to confirm the declaration."}, csrf, 400)
        await run_in_threadpool(delivery.make_declaration, ctx.engine, who, ctx.clock(), client_address(request))
        return _go("/candidate/instructions")
    return _page(request, "candidate/declaration.html", {"view": view, "error": None}, csrf)


@candidate_page
async def instructions(request: Request, who: CandidateSession, csrf: str) -> Response:
    view = await _view(request, who)
    if view.status is not Status.READY:
        return _go(_where(view))
    return _page(request, "candidate/instructions.html", {"view": view}, csrf)


@candidate_page
async def wait(request: Request, who: CandidateSession, csrf: str) -> Response:
    view = await _view(request, who)
    if view.status is not Status.READY:
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": _where(view)})
        return _go(_where(view))
    template = "candidate/_wait_status.html" if is_htmx(request) else "candidate/wait.html"
    return _page(request, template, {"view": view}, csrf)


@candidate_page
async def pin(request: Request, who: CandidateSession, csrf: str) -> Response:
    """The session PIN the invigilator announces unlocks the test (A5)."""
    ctx = context(request)
    form = await checked_form(request, csrf)
    try:
        await run_in_threadpool(delivery.unlock_with_pin, ctx.engine, who, str(form.get("pin") or ""), ctx.clock(), client_address(request))
    except (LoginRefused, SittingRuleError) as refused:
        view = await _view(request, who)
        message = str(refused) if isinstance(refused, LoginRefused) else delivery.rule_error_message(refused)
        return _page(request, "candidate/wait.html", {"view": view, "pin_error": message}, csrf, 409)
    return _go("/candidate/wait")


@candidate_page
async def start(request: Request, who: CandidateSession, csrf: str) -> Response:
    ctx = context(request)
    await checked_form(request, csrf)
    try:
        await run_in_threadpool(delivery.start_test, ctx.engine, ctx.assembler, who, ctx.clock(), client_address(request), ctx.rng)
    except SittingRuleError as exc:
        view = await _view(request, who)
        return _page(request, "candidate/wait.html", {"view": view, "error": delivery.rule_error_message(exc)}, csrf, 409)
    except (AssemblyError, LookupError):
        view = await _view(request, who)
        message = "A test could not be put together for you. Please tell the invigilator (the centre's staff can see why)."
        return _page(request, "candidate/wait.html", {"view": view, "error": message}, csrf, 409)
    return _go("/candidate/question/1")


def _answer_from_form(question: QuestionView, form: dict[str, Any]) -> Any:
    """The answer in a form post, in the shape the service takes (None: nothing chosen)."""
    if question.type is ItemType.SINGLE:
        return form.get("answer") or None
    if question.type is ItemType.MULTIPLE:
        chosen = form.get("answer")
        values = chosen if isinstance(chosen, list) else [chosen] if chosen else []
        return [str(v) for v in values] or None
    if question.type is ItemType.ORDERING:
        order = [str(form.get(f"position-{k}") or "") for k in range(1, len(question.options) + 1)]
        return order if any(order) else None
    matches = {p.id: str(form.get(f"match-{p.id}") or "") for p in question.premises}
    return {k: v for k, v in matches.items() if v} or None


@candidate_page
async def question(request: Request, who: CandidateSession, csrf: str) -> Response:
    ctx = context(request)
    position = int(request.path_params["position"])
    try:
        view = await _view(request, who)
        if view.status is not Status.IN_PROGRESS:
            return _go(_where(view))
        current = await run_in_threadpool(delivery.question_view, ctx.engine, who, position, ctx.clock())
    except LookupError:
        return _go("/candidate/question/1")
    except AnswerRefused:
        return _go("/candidate/result")
    error = None
    if request.method == "POST":
        form = await checked_form(request, csrf)
        raw = _answer_from_form(current, form)
        try:
            if raw is not None or current.response is not None:
                sequence = int(form.get("sequence") or 0)
                await ctx.answers.save(AnswerSave(who, position, raw, max(sequence, _next_sequence(current)), ctx.clock()))
            go = str(form.get("go") or "next")
            if go in ("flag", "unflag"):
                await run_in_threadpool(delivery.set_flag, ctx.engine, who, position, go == "flag", ctx.clock())
                return _go(f"/candidate/question/{position}")
            if go == "review":
                return _go("/candidate/review")
            target = position - 1 if go == "previous" else position + 1
            return _go(f"/candidate/question/{min(max(target, 1), current.total)}" if 1 <= target <= current.total else "/candidate/review")
        except AnswerRefused as refused:
            error = str(refused)
            current = await run_in_threadpool(delivery.question_view, ctx.engine, who, position, ctx.clock())
    return _page(request, "candidate/question.html", {"view": view, "q": current, "error": error}, csrf)


def _next_sequence(current: QuestionView) -> int:
    # A form post comes after any save the page already shows; player.js numbers its saves
    # from above the sitting's highest, so the newest save always wins.
    return current.sequence + 1


@candidate_api
async def save_answer(request: Request, who: CandidateSession, csrf: str) -> Response:
    """player.js autosave: {"position", "response", "sequence"} -> {"position", "sequence", "saved_at"}."""
    check_csrf_header(request, csrf)
    ctx = context(request)
    try:
        body = await small_json(request)
        position, sequence, response = int(body["position"]), int(body["sequence"]), body.get("response")
        if not (0 < position < 1000 and 0 <= sequence < 2**31):  # the database's integers
            raise ValueError("position or sequence out of range")
        seconds = body.get("seconds")
        seconds = int(seconds) if isinstance(seconds, (int, float)) and 0 <= seconds <= 86_400 else None
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"message": "The answer could not be read."}, status_code=400)
    try:
        receipt = await ctx.answers.save(AnswerSave(who, position, response, sequence, ctx.clock(), seconds))
    except AnswerRefused as refused:
        paused = "paused" in str(refused)
        return JSONResponse({"message": str(refused), "final": not paused, "paused": paused}, status_code=409)
    return JSONResponse({"position": receipt.position, "sequence": receipt.sequence, "saved_at": receipt.saved_at.isoformat()})


@candidate_api
async def flag(request: Request, who: CandidateSession, csrf: str) -> Response:
    check_csrf_header(request, csrf)
    ctx = context(request)
    try:
        body = await small_json(request)
        position, flagged = int(body["position"]), bool(body["flagged"])
        await run_in_threadpool(delivery.set_flag, ctx.engine, who, position, flagged, ctx.clock())
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"message": "The flag could not be read."}, status_code=400)
    except AnswerRefused as exc:
        return JSONResponse({"message": str(exc)}, status_code=409)
    return JSONResponse({"position": position, "flagged": flagged})


@candidate_api
async def clock(request: Request, who: CandidateSession, csrf: str) -> Response:
    """The server's word on time left and state: player.js re-syncs from it. Each call is also
    the browser's check-in, with the number of answers it still holds unacknowledged."""
    view = await _view(request, who)
    unsent = request.query_params.get("unsent", "0")
    held = min(int(unsent), 10_000) if unsent.isdigit() else 0  # a browser holds a few; never more than the column takes
    await context(request).check_ins.note(who.sitting_id, context(request).clock(), held)
    return JSONResponse({"status": view.status.value, "remaining_seconds": view.remaining_seconds, "go": _where(view)})


@candidate_api
async def focus(request: Request, who: CandidateSession, csrf: str) -> Response:
    check_csrf_header(request, csrf)
    ctx = context(request)
    try:
        body = await small_json(request)
        await run_in_threadpool(delivery.record_focus, ctx.engine, who, bool(body.get("lost")), ctx.clock(), client_address(request))
    except (NotYours, ValueError, SittingRuleError):
        pass  # focus reports are best effort; a stale browser's are ignored
    return Response(status_code=204)


@candidate_page
async def review(request: Request, who: CandidateSession, csrf: str) -> Response:
    ctx = context(request)
    view = await _view(request, who)
    if view.status is not Status.IN_PROGRESS:
        return _go(_where(view))
    entries = await run_in_threadpool(delivery.review_view, ctx.engine, who, ctx.clock())
    return _page(request, "candidate/review.html", {"view": view, "entries": entries}, csrf)


@candidate_page
async def finish(request: Request, who: CandidateSession, csrf: str) -> Response:
    ctx = context(request)
    try:
        view = await _view(request, who)
        if view.status is not Status.IN_PROGRESS:
            return _go(_where(view))
        if request.method == "POST":
            await checked_form(request, csrf)
            await run_in_threadpool(delivery.finish_test, ctx.engine, who, ctx.clock(), client_address(request))
            return _go("/candidate/result")
    except SittingRuleError:
        return _go("/candidate/result")
    return _page(request, "candidate/finish.html", {"view": view}, csrf)


@candidate_page
async def paused(request: Request, who: CandidateSession, csrf: str) -> Response:
    view = await _view(request, who)
    if view.status not in (Status.PAUSED, Status.ON_BREAK):
        return _go(_where(view))
    return _page(request, "candidate/paused.html", {"view": view}, csrf)


@candidate_page
async def break_request(request: Request, who: CandidateSession, csrf: str) -> Response:
    ctx = context(request)
    form = await checked_form(request, csrf)
    try:
        await run_in_threadpool(delivery.request_break, ctx.engine, who, ctx.clock(), client_address(request))
    except SittingRuleError as exc:
        return _logged_out(request, str(exc))
    return _go(f"/candidate/question/{int(form.get('position') or 1)}?break=requested")


@candidate_page
async def result(request: Request, who: CandidateSession, csrf: str) -> Response:
    ctx = context(request)
    view = await _view(request, who)
    if view.status not in FINAL:
        return _go(_where(view))
    outcome = await run_in_threadpool(delivery.result_view, ctx.engine, ctx.catalogue, who)
    return _page(request, "candidate/result.html", {"view": view, "result": outcome}, csrf)


async def display(request: Request) -> Response:
    """Colour scheme and text size, chosen by the candidate (E5): presentation only."""
    found = _who(request)
    expected = found[1] if found else _anonymous_csrf(request)
    form = await checked_form(request, expected)
    scheme = str(form.get("scheme") or "standard")
    size = str(form.get("size") or "100")
    if scheme not in SCHEMES or size not in SIZES:
        raise HTTPException(400, "Unknown display setting.")
    back = str(form.get("back") or "/candidate")
    response = _go(back if back.startswith("/candidate") else "/candidate")
    response.set_cookie(DISPLAY, f"{scheme}:{size}", max_age=365 * 24 * 3600, httponly=True, samesite="lax", path="/")
    return response


routes = [
    Route("/candidate", login, methods=["GET", "POST"]),
    Route("/candidate/confirm", confirm, methods=["GET", "POST"]),
    Route("/candidate/cancel", cancel, methods=["POST"]),
    Route("/candidate/declaration", declaration, methods=["GET", "POST"]),
    Route("/candidate/instructions", instructions),
    Route("/candidate/wait", wait),
    Route("/candidate/pin", pin, methods=["POST"]),
    Route("/candidate/start", start, methods=["POST"]),
    Route("/candidate/question/{position:int}", question, methods=["GET", "POST"]),
    Route("/candidate/answers", save_answer, methods=["POST"]),
    Route("/candidate/flag", flag, methods=["POST"]),
    Route("/candidate/clock", clock),
    Route("/candidate/focus", focus, methods=["POST"]),
    Route("/candidate/review", review),
    Route("/candidate/finish", finish, methods=["GET", "POST"]),
    Route("/candidate/paused", paused),
    Route("/candidate/break", break_request, methods=["POST"]),
    Route("/candidate/result", result),
    Route("/candidate/display", display, methods=["POST"]),
]
