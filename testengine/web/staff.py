"""Staff pages: sign in and out, the centre's candidates and sessions, bookings and keycode
slips, the attendance register and seating plan, and unlocking a room."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from testengine.domain.centres import GENDERS, Actor, Arrangements, Role
from testengine.services import accounts, api_tokens, centres, console, invigilation
from testengine.services.errors import Forbidden, InvalidInput, NotFound
from testengine.web.context import checked_form, client_address, context, is_htmx, render
from testengine.web.cookies import ANONYMOUS, SECOND_FACTOR, STAFF

MAX_CSV_BYTES = 1024 * 1024


def _go(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def _staff(request: Request) -> tuple[Actor, str] | None:
    ctx = context(request)
    data = ctx.cookies.read(request, STAFF)
    if not data or not isinstance(data.get("id"), int) or not isinstance(data.get("v"), int):
        return None
    actor = await run_in_threadpool(accounts.current_actor, ctx.engine, data["id"], data["v"])
    return (actor, str(data["csrf"])) if actor else None


def render_staff(request: Request, template: str, actor: Actor, csrf: str, values: dict[str, Any], status_code: int = 200) -> Response:
    return render(request, template, {**values, "actor": actor, "csrf": csrf, "Role": Role}, status_code)


def _problem(request: Request, actor: Actor, csrf: str, exc: Exception) -> Response:
    status = 404 if isinstance(exc, NotFound) else 403
    return render_staff(request, "staff/problem.html", actor, csrf, {"message": str(exc)}, status)


def staff_page(handler: Callable[[Request, Actor, str], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """A page for signed-in staff: otherwise the sign-in page. What the role may not do, or
    another centre's data, answer 403 or 404 with a page that says so."""

    @functools.wraps(handler)
    async def page(request: Request) -> Response:
        found = await _staff(request)
        if found is None:
            return _go("/staff/sign-in")
        actor, csrf = found
        try:
            return await handler(request, actor, csrf)
        except (Forbidden, NotFound) as exc:
            return _problem(request, actor, csrf, exc)

    return page


async def sign_in(request: Request) -> Response:
    ctx = context(request)
    anonymous = ctx.cookies.read(request, ANONYMOUS)
    if request.method == "GET":
        token = str(anonymous["csrf"]) if anonymous else secrets.token_urlsafe(24)
        response = render(request, "staff/sign_in.html", {"csrf": token, "error": None})
        ctx.cookies.write(request, response, ANONYMOUS, {"csrf": token})
        return response
    form = await checked_form(request, str(anonymous["csrf"]) if anonymous else None)
    try:
        signed = await run_in_threadpool(
            accounts.sign_in, ctx.engine, str(form.get("username") or ""), str(form.get("password") or ""), ctx.clock(), client_address(request)
        )
    except accounts.SignInRefused as refused:
        values = {"csrf": str(anonymous["csrf"]) if anonymous else "", "error": str(refused), "username": form.get("username", "")}
        return render(request, "staff/sign_in.html", values, 400)
    if isinstance(signed, accounts.CodeNeeded):
        response = render(request, "staff/sign_in_code.html", {"csrf": str(anonymous["csrf"]) if anonymous else "", "error": None})
        ctx.cookies.write(request, response, SECOND_FACTOR, {"id": signed.staff_id, "v": signed.session_version})
        return response
    response = _go("/staff")
    ctx.cookies.write(request, response, STAFF, {"id": signed.actor.staff_id, "v": signed.session_version})
    return response


async def sign_in_code(request: Request) -> Response:
    """The second step for accounts with a second factor: the code, within 5 minutes of the password."""
    ctx = context(request)
    anonymous = ctx.cookies.read(request, ANONYMOUS)
    form = await checked_form(request, str(anonymous["csrf"]) if anonymous else None)
    pending = ctx.cookies.read(request, SECOND_FACTOR)
    if pending is None:
        return _go("/staff/sign-in")
    waiting = accounts.CodeNeeded(int(pending["id"]), int(pending["v"]))
    try:
        signed = await run_in_threadpool(accounts.sign_in_with_code, ctx.engine, waiting, str(form.get("code") or ""), ctx.clock(),
                                         client_address(request))
    except accounts.SignInRefused as refused:
        values = {"csrf": str(anonymous["csrf"]) if anonymous else "", "error": str(refused)}
        return render(request, "staff/sign_in_code.html", values, 400)
    response = _go("/staff")
    ctx.cookies.clear(response, SECOND_FACTOR)
    ctx.cookies.write(request, response, STAFF, {"id": signed.actor.staff_id, "v": signed.session_version})
    return response


@staff_page
async def security(request: Request, actor: Actor, csrf: str) -> Response:
    """An administrator's second factor: set it up with an authenticator app, or turn it off."""
    ctx = context(request)
    if actor.role is not Role.CENTRE_ADMIN:
        raise Forbidden("the second factor is for administrators' accounts")
    errors: list[str] = []
    uri = None
    notice = None
    if request.method == "POST":
        form = await checked_form(request, csrf)
        action = str(form.get("action") or "")
        code = str(form.get("code") or "")
        try:
            if action == "start":
                uri = await run_in_threadpool(accounts.start_second_factor, ctx.engine, actor, ctx.clock())
            elif action == "confirm":
                await run_in_threadpool(accounts.confirm_second_factor, ctx.engine, actor, code, ctx.clock())
                notice = "The second factor is on: signing in now asks for a code."
            elif action == "off":
                await run_in_threadpool(accounts.turn_off_second_factor, ctx.engine, actor, code, ctx.clock())
                notice = "The second factor is off."
            else:
                raise InvalidInput([f"unknown action {action!r}"])
        except InvalidInput as invalid:
            errors = invalid.messages
    enabled = await run_in_threadpool(accounts.second_factor_on, ctx.engine, actor)
    secret = uri.split("secret=")[1].split("&")[0] if uri else None
    return render_staff(request, "staff/security.html", actor, csrf, {
        "enabled": enabled, "uri": uri, "secret": secret, "errors": errors, "notice": notice,
    }, 400 if errors else 200)


async def sign_out(request: Request) -> Response:
    ctx = context(request)
    found = await _staff(request)
    if found is not None:
        actor, csrf = found
        await checked_form(request, csrf)
        await run_in_threadpool(accounts.sign_out, ctx.engine, actor.staff_id, ctx.clock(), client_address(request))
    response = _go("/staff/sign-in")
    ctx.cookies.clear(response, STAFF)
    return response


@staff_page
async def dashboard(request: Request, actor: Actor, csrf: str) -> Response:
    ctx = context(request)
    errors: list[str] = []
    if request.method == "POST":
        form = await checked_form(request, csrf)
        try:
            await run_in_threadpool(centres.set_results_release, ctx.engine, actor, str(form.get("results_release") or ""), ctx.clock(), client_address(request))
            return _go("/staff?saved=1")
        except InvalidInput as invalid:
            errors = invalid.messages
    sessions = []
    settings = None
    if actor.role in (Role.CENTRE_ADMIN, Role.INVIGILATOR):
        sessions = await run_in_threadpool(centres.list_sessions, ctx.engine, actor, ctx.catalogue)
    if actor.role is Role.CENTRE_ADMIN:
        settings = await run_in_threadpool(centres.centre_settings, ctx.engine, actor)
    return render_staff(
        request, "staff/dashboard.html", actor, csrf,
        {"sessions": sessions, "settings": settings, "releases": centres.RELEASES, "errors": errors, "saved": request.query_params.get("saved")},
        400 if errors else 200,
    )


@staff_page
async def candidates(request: Request, actor: Actor, csrf: str) -> Response:
    ctx = context(request)
    errors: list[str] = []
    values: dict[str, Any] = {}
    if request.method == "POST":
        form = await checked_form(request, csrf)
        values = form
        try:
            await run_in_threadpool(
                centres.add_candidate, ctx.engine, actor, str(form.get("candidate_number") or ""), str(form.get("name") or ""),
                ctx.clock(), client_address(request), str(form.get("gender") or ""),
            )
            return _go("/staff/candidates?added=1")
        except InvalidInput as invalid:
            errors = invalid.messages
    listed = await run_in_threadpool(centres.list_candidates, ctx.engine, actor)
    return render_staff(
        request, "staff/candidates.html", actor, csrf,
        {"candidates": listed, "errors": errors, "form": values, "added": request.query_params.get("added"),
         "imported": request.query_params.get("imported"), "import_errors": [], "genders": GENDERS},
        400 if errors else 200,
    )


@staff_page
async def import_candidates(request: Request, actor: Actor, csrf: str) -> Response:
    ctx = context(request)
    form = await checked_form(request, csrf)
    upload = form.get("file")
    try:
        if upload is None or not hasattr(upload, "read"):
            raise InvalidInput(["choose a CSV file to import"])
        try:
            data = await upload.read(MAX_CSV_BYTES + 1)
        finally:
            await upload.close()
        if len(data) > MAX_CSV_BYTES:
            raise InvalidInput(["the file is larger than 1 MB: split it"])
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(["the file is not UTF-8 text: save it as CSV UTF-8"]) from exc
        result = await run_in_threadpool(centres.import_candidates, ctx.engine, actor, ctx.policy, text, ctx.clock(), client_address(request))
        return _go(f"/staff/candidates?imported={result.added}")
    except InvalidInput as invalid:
        listed = await run_in_threadpool(centres.list_candidates, ctx.engine, actor)
        return render_staff(
            request, "staff/candidates.html", actor, csrf,
            {"candidates": listed, "errors": [], "form": {}, "import_errors": invalid.messages, "added": None, "imported": None,
             "genders": GENDERS}, 400,
        )


@staff_page
async def candidate(request: Request, actor: Actor, csrf: str) -> Response:
    ctx = context(request)
    candidate_id = int(request.path_params["candidate_id"])
    errors: list[str] = []
    if request.method == "POST":
        form = await checked_form(request, csrf)
        try:
            if form.get("action") == "details":
                await run_in_threadpool(
                    centres.update_candidate, ctx.engine, actor, candidate_id, str(form.get("candidate_number") or ""),
                    str(form.get("name") or ""), ctx.clock(), client_address(request), str(form.get("gender") or ""),
                )
            else:
                extra = str(form.get("extra_time_percent") or "0").strip()
                if not extra.isdigit():
                    raise InvalidInput([f"extra time {extra!r}: give a whole number of per cent"])
                arrangements = Arrangements(
                    extra_time_percent=int(extra),
                    extra_time_reference=str(form.get("extra_time_reference") or "").strip(),
                    rest_breaks=form.get("rest_breaks") == "yes",
                    separate_invigilation=form.get("separate_invigilation") == "yes",
                    reader=form.get("reader") == "yes",
                    display_needs=str(form.get("display_needs") or "").strip(),
                )
                await run_in_threadpool(
                    centres.set_arrangements, ctx.engine, actor, ctx.policy, candidate_id, arrangements, ctx.clock(), client_address(request)
                )
            return _go(f"/staff/candidates/{candidate_id}?saved=1")
        except InvalidInput as invalid:
            errors = invalid.messages
    shown = await run_in_threadpool(centres.get_candidate, ctx.engine, actor, candidate_id)
    return render_staff(
        request, "staff/candidate.html", actor, csrf,
        {"candidate": shown, "errors": errors, "saved": request.query_params.get("saved"), "policy": ctx.policy, "genders": GENDERS},
        400 if errors else 200,
    )


@staff_page
async def sessions(request: Request, actor: Actor, csrf: str) -> Response:
    ctx = context(request)
    errors: list[str] = []
    form: dict[str, Any] = {}
    if request.method == "POST":
        form = await checked_form(request, csrf)
        try:
            invigilators = form.get("invigilators") or []
            ids = [int(i) for i in (invigilators if isinstance(invigilators, list) else [invigilators])]
            try:
                on = date.fromisoformat(str(form.get("date") or ""))
            except ValueError as exc:
                raise InvalidInput([f"date {form.get('date')!r}: use a date such as 2026-11-23"]) from exc
            capacity = str(form.get("capacity") or "")
            if not capacity.isdigit():
                raise InvalidInput([f"capacity {capacity!r}: give a whole number"])
            session_id = await run_in_threadpool(
                centres.create_session, ctx.engine, actor, ctx.catalogue, str(form.get("unit") or ""), on,
                str(form.get("start_time") or ""), str(form.get("room") or ""), int(capacity), ids, ctx.clock(),
                form.get("practice") == "yes", client_address(request),
            )
            return _go(f"/staff/sessions/{session_id}")
        except InvalidInput as invalid:
            errors = invalid.messages
    listed = await run_in_threadpool(centres.list_sessions, ctx.engine, actor, ctx.catalogue)
    staff = await run_in_threadpool(centres.list_invigilators, ctx.engine, actor) if actor.role is Role.CENTRE_ADMIN else []
    units = [(p.number, p.bank.unit.title) for p in ctx.catalogue.units.values()]
    return render_staff(
        request, "staff/sessions.html", actor, csrf,
        {"sessions": listed, "staff": staff, "units": units, "errors": errors, "form": form, "today": ctx.clock().date().isoformat()},
        400 if errors else 200,
    )


@staff_page
async def exam_session(request: Request, actor: Actor, csrf: str) -> Response:
    """The staff page of one session: bookings, room status and "Unlock all"."""
    ctx = context(request)
    session_id = int(request.path_params["session_id"])
    errors: list[str] = []
    notice = None
    if request.method == "POST":
        form = await checked_form(request, csrf)
        action = form.get("action")
        try:
            if action == "book":
                candidate_value = str(form.get("candidate_id") or "")
                if not candidate_value.isdigit():
                    raise InvalidInput(["choose a candidate to book"])
                await run_in_threadpool(
                    centres.book_candidate, ctx.engine, actor, ctx.policy, ctx.catalogue, session_id, int(candidate_value),
                    ctx.clock(), ctx.rng, str(form.get("seat") or ""), client_address(request),
                )
                notice = "Candidate booked."
            elif action == "unlock_all":
                count = await run_in_threadpool(invigilation.unlock, ctx.engine, actor, session_id, None, ctx.clock(), client_address(request))
                notice = f"Unlocked {count} candidate{'s' if count != 1 else ''}."
            elif action == "unlock":
                count = await run_in_threadpool(
                    invigilation.unlock, ctx.engine, actor, session_id, [int(str(form.get("sitting_id")))], ctx.clock(), client_address(request)
                )
                notice = "Candidate unlocked." if count else "Nothing to unlock."
            elif action == "approve_login":
                await run_in_threadpool(
                    invigilation.approve_relogin, ctx.engine, actor, session_id, int(str(form.get("sitting_id"))), str(form.get("reason") or ""),
                    ctx.clock(), client_address(request),
                )
                notice = "The candidate may now log in again with their keycode."
            else:
                raise InvalidInput([f"unknown action {action!r}"])
        except InvalidInput as invalid:
            errors = invalid.messages
    view = await run_in_threadpool(console.room_view, ctx.engine, actor, ctx.catalogue, ctx.policy, session_id, ctx.clock())
    bookable = []
    if actor.role is Role.CENTRE_ADMIN:
        booked = {r.candidate_number for r in view.rows}
        bookable = [c for c in await run_in_threadpool(centres.list_candidates, ctx.engine, actor) if c.candidate_number not in booked]
    values = {"view": view, "bookable": bookable, "errors": errors, "notice": notice}
    template = "staff/_room.html" if is_htmx(request) else "staff/session.html"
    return render_staff(request, template, actor, csrf, values, 400 if errors else 200)


@staff_page
async def session_results(request: Request, actor: Actor, csrf: str) -> Response:
    """Each candidate's outcome and marks by learning outcome (G1, G2): for the centre to give out."""
    ctx = context(request)
    session_id = int(request.path_params["session_id"])
    rows = await run_in_threadpool(centres.session_results, ctx.engine, actor, session_id)
    view = await run_in_threadpool(console.room_view, ctx.engine, actor, ctx.catalogue, ctx.policy, session_id, ctx.clock())
    return render_staff(request, "staff/results.html", actor, csrf, {"view": view, "rows": rows, "printed_at": ctx.clock()})


@staff_page
async def session_document(request: Request, actor: Actor, csrf: str) -> Response:
    """Printable: keycode slips (A4), the attendance register and the seating plan (A9)."""
    ctx = context(request)
    document = request.path_params["document"]
    if document not in ("slips", "register", "seating"):
        raise HTTPException(404)
    view = await run_in_threadpool(console.room_view, ctx.engine, actor, ctx.catalogue, ctx.policy, int(request.path_params["session_id"]), ctx.clock())
    return render_staff(request, f"staff/{document}.html", actor, csrf, {"view": view, "printed_at": ctx.clock()})


@staff_page
async def api_tokens_page(request: Request, actor: Actor, csrf: str) -> Response:
    """The centre's tokens for the JSON API: make one (shown once), see them, revoke one."""
    ctx = context(request)
    errors: list[str] = []
    made = None
    if request.method == "POST":
        form = await checked_form(request, csrf)
        try:
            if form.get("action") == "revoke":
                token_id = str(form.get("token_id") or "")
                if not token_id.isdigit():
                    raise InvalidInput(["choose the token to revoke"])
                await run_in_threadpool(api_tokens.revoke_token, ctx.engine, actor, int(token_id), ctx.clock())
            else:
                made = await run_in_threadpool(api_tokens.create_token, ctx.engine, actor, str(form.get("name") or ""), ctx.clock())
        except InvalidInput as invalid:
            errors = invalid.messages
    listed = await run_in_threadpool(api_tokens.list_tokens, ctx.engine, actor)
    return render_staff(request, "staff/api_tokens.html", actor, csrf, {"tokens": listed, "made": made, "errors": errors},
                        400 if errors else 200)


routes = [
    Route("/staff/sign-in", sign_in, methods=["GET", "POST"]),
    Route("/staff/sign-in/code", sign_in_code, methods=["POST"]),
    Route("/staff/sign-out", sign_out, methods=["POST"]),
    Route("/staff/security", security, methods=["GET", "POST"]),
    Route("/staff/api-tokens", api_tokens_page, methods=["GET", "POST"]),
    Route("/staff", dashboard, methods=["GET", "POST"]),
    Route("/staff/candidates", candidates, methods=["GET", "POST"]),
    Route("/staff/candidates/import", import_candidates, methods=["POST"]),
    Route("/staff/candidates/{candidate_id:int}", candidate, methods=["GET", "POST"]),
    Route("/staff/sessions", sessions, methods=["GET", "POST"]),
    Route("/staff/sessions/{session_id:int}", exam_session, methods=["GET", "POST"]),
    Route("/staff/sessions/{session_id:int}/results", session_results),
    Route("/staff/sessions/{session_id:int}/{document:str}", session_document),
]
