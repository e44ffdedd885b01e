"""The invigilator's live console, the room display and the session's printable records.

The console is one page: the live part (header and one row per candidate) is polled by htmx
every few seconds; actions post to the same URL and answer with the live part again, so the
invigilator sees the effect at once. Forms that need typing (add time, a reason, an incident)
live outside the polled part, so a refresh never wipes what is being typed. Nothing here shows
question text or keys (C6).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from testengine.domain.centres import Actor
from testengine.domain.incidents import Category
from testengine.services import console, invigilation, timeline
from testengine.services.delivery import CENTRE_TIME
from testengine.services.errors import InvalidInput
from testengine.services.invigilation import Action
from testengine.web.context import checked_form, client_address, context, is_htmx
from testengine.web.staff import render_staff, staff_page

# The actions a console button may post, and what the notice calls them.
BUTTONS: dict[str, tuple[Action, str]] = {
    "unlock": (Action.UNLOCK, "Unlocked"),
    "pause": (Action.PAUSE, "Paused"),
    "resume": (Action.RESUME, "Resumed"),
    "start_break": (Action.START_BREAK, "Rest break started"),
    "end_break": (Action.END_BREAK, "Rest break ended"),
    "allow_login": (Action.ALLOW_LOGIN, "May log in again"),
    "absent": (Action.ABSENT, "Marked absent"),
    "left_accompanied": (Action.LEFT_ACCOMPANIED, "Recorded leaving the room, accompanied"),
    "left_unaccompanied": (Action.LEFT_UNACCOMPANIED, "Recorded leaving the room, unaccompanied"),
    "returned": (Action.RETURNED, "Recorded returning to the room"),
    "warn": (Action.WARN, "Warned"),
    "remove": (Action.REMOVE, "Removed from the room"),
    "end": (Action.END, "Sitting ended"),
    "void": (Action.VOID, "Voided"),
    "abandon": (Action.ABANDON, "Closed as abandoned"),
}
# The forms opened in the action panel, by name: each needs something typed.
PANELS = ("add_time", "allow_login", "void", "late", "more")


def _session_id(request: Request) -> int:
    return int(request.path_params["session_id"])


async def _room(request: Request, actor: Actor) -> console.RoomView:
    ctx = context(request)
    return await run_in_threadpool(console.room_view, ctx.engine, actor, ctx.catalogue, ctx.policy, _session_id(request), ctx.clock())


def _ids(form: dict[str, Any]) -> list[int]:
    raw = form.get("sitting_id") or []
    values = raw if isinstance(raw, list) else [raw]
    try:
        return [int(v) for v in values]
    except ValueError as exc:
        raise InvalidInput(["choose candidates from the list"]) from exc


@staff_page
async def console_page(request: Request, actor: Actor, csrf: str) -> Response:
    """GET: the console. POST: one action, then the live part (htmx) or the whole page."""
    ctx = context(request)
    session_id = _session_id(request)
    notice, errors, interruption = None, [], None
    if request.method == "POST":
        form = await checked_form(request, csrf)
        try:
            notice, interruption = await _do(request, actor, form)
        except InvalidInput as invalid:
            errors = invalid.messages
    view = await _room(request, actor)
    values = {"view": view, "notice": notice, "errors": errors, "interruption": interruption, "policy": ctx.policy, "zone": CENTRE_TIME}
    if is_htmx(request) and request.method == "POST" or request.query_params.get("live"):
        return render_staff(request, "staff/console_live.html", actor, csrf, values, 400 if errors else 200)
    check = await run_in_threadpool(invigilation.end_check, ctx.engine, actor, session_id, ctx.clock(), ctx.policy.answer_grace_seconds)
    incidents = await run_in_threadpool(timeline.incident_log, ctx.engine, actor, session_id)
    return render_staff(
        request, "staff/console.html", actor, csrf,
        {**values, "check": check, "incidents": incidents, "categories": list(Category)}, 400 if errors else 200,
    )


async def _do(request: Request, actor: Actor, form: dict[str, Any]) -> tuple[str, invigilation.Interruption | None]:
    ctx = context(request)
    session_id, now, client = _session_id(request), ctx.clock(), client_address(request)
    action = str(form.get("action") or "")
    reason = str(form.get("reason") or "")
    scope = str(form.get("scope") or "one")  # one, selected or all
    if action == "present":
        # Marked present now: after the session's start that is a late arrival, which needs its reason.
        [sitting_id] = _ids(form) or [0]
        await run_in_threadpool(
            invigilation.record_arrival, ctx.engine, actor, ctx.catalogue, session_id, sitting_id, None, reason, now, client
        )
        return "Marked present.", None
    if action in BUTTONS:
        what, label = BUTTONS[action]
        ids = None if scope == "all" else _ids(form)
        if ids == []:
            raise InvalidInput(["select one or more candidates first"])
        done = await run_in_threadpool(invigilation.act, ctx.engine, actor, session_id, ids, what, now, reason, client)
        return done.message(label), None
    if action == "pause_all":
        category = str(form.get("category") or Category.EMERGENCY_EVACUATION.value)
        description = str(form.get("description") or "").strip() or "Emergency: the whole room paused"
        stopped = await run_in_threadpool(invigilation.pause_all, ctx.engine, actor, session_id, category, description, now, client)
        return f"Paused all: {stopped.paused} clocks stopped at {stopped.at.astimezone(CENTRE_TIME):%H:%M:%S}.", stopped
    if action == "resume_all":
        done = await run_in_threadpool(invigilation.resume_all, ctx.engine, actor, session_id, now, client)
        return done.message("Resumed"), None
    if action == "add_time":
        minutes = str(form.get("minutes") or "")
        if not minutes.isdigit():
            raise InvalidInput([f"minutes {minutes!r}: give a whole number of minutes"])
        [sitting_id] = _ids(form) or [0]
        await run_in_threadpool(invigilation.add_time, ctx.engine, actor, session_id, sitting_id, int(minutes), reason, now, client)
        return f"Added {int(minutes)} minutes.", None
    if action == "late":
        [sitting_id] = _ids(form) or [0]
        arrived = _arrival(str(form.get("arrived") or ""), now)
        very_late = await run_in_threadpool(
            invigilation.record_arrival, ctx.engine, actor, ctx.catalogue, session_id, sitting_id, arrived, reason, now, client
        )
        return "Late arrival recorded" + (": very late, logged for a report." if very_late else "."), None
    if action == "incident":
        target = str(form.get("about") or "")
        about = int(target) if target.isdigit() else None
        await run_in_threadpool(
            invigilation.record_incident, ctx.engine, actor, session_id, about, str(form.get("category") or ""),
            str(form.get("description") or ""), str(form.get("taken") or ""), now, client,
        )
        return "Incident recorded.", None
    if action == "new_pin":
        await run_in_threadpool(invigilation.new_pin, ctx.engine, actor, session_id, ctx.rng, now, client)
        return "New session PIN set: tell the candidates when the room is ready to start.", None
    if action == "clear_pin":
        await run_in_threadpool(invigilation.clear_pin, ctx.engine, actor, session_id, now, client)
        return "Session PIN removed.", None
    if action == "sign_off":
        await run_in_threadpool(
            invigilation.sign_off, ctx.engine, actor, session_id, str(form.get("note") or ""), now, ctx.policy.answer_grace_seconds, client
        )
        return "Session signed off.", None
    raise InvalidInput([f"unknown action {action!r}"])


def _arrival(text: str, now: datetime) -> datetime | None:
    """The time a late candidate came under supervision, typed as HH:MM (centre time, today)."""
    if not text.strip():
        return None
    try:
        clock = time.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidInput([f"arrival time {text!r}: use the 24-hour clock, e.g. 09:47"]) from exc
    return datetime.combine(now.astimezone(CENTRE_TIME).date(), clock, CENTRE_TIME)


@staff_page
async def action_panel(request: Request, actor: Actor, csrf: str) -> Response:
    """A form that needs typing, for one candidate: opened beside the live table."""
    panel = request.path_params["panel"]
    if panel not in PANELS:
        raise HTTPException(404)
    view = await _room(request, actor)
    sitting_id = int(request.path_params["sitting_id"])
    row = next((r for r in view.rows if r.sitting_id == sitting_id), None)
    if row is None:
        raise HTTPException(404, "There is no such candidate in this session.")
    template = "staff/_console_panel.html" if is_htmx(request) else "staff/console_panel.html"
    return render_staff(request, template, actor, csrf, {"view": view, "row": row, "panel": panel, "zone": CENTRE_TIME})


@staff_page
async def room_display(request: Request, actor: Actor, csrf: str) -> Response:
    """For the screen at the front of the room (A14): the actual time, the centre, the unit,
    and each workstation's actual start and finish times. No names, nothing else."""
    view = await _room(request, actor)
    template = "staff/_display_board.html" if is_htmx(request) else "staff/display.html"
    return render_staff(request, template, actor, csrf, {"view": view, "zone": CENTRE_TIME})


@staff_page
async def session_record(request: Request, actor: Actor, csrf: str) -> Response:
    """Printable records: the incident report with the full timeline (D5, G9) and the
    very-late-arrival record (B9)."""
    ctx = context(request)
    document = request.path_params["document"]
    if document not in ("incident-report", "very-late"):
        raise HTTPException(404)
    view = await _room(request, actor)
    entries = await run_in_threadpool(timeline.session_timeline, ctx.engine, actor, _session_id(request))
    incidents = await run_in_threadpool(timeline.incident_log, ctx.engine, actor, _session_id(request))
    published = datetime.combine(datetime.fromisoformat(view.date).date(), time.fromisoformat(view.start_time), CENTRE_TIME)
    duration = ctx.catalogue.unit(view.unit_number).blueprint.duration_minutes
    keep_until = (view.signed_off_at or ctx.clock()) + timedelta(days=ctx.policy.retention_days)
    return render_staff(
        request, f"staff/{document.replace('-', '_')}.html", actor, csrf,
        {"view": view, "entries": entries, "incidents": incidents, "printed_at": ctx.clock(), "zone": CENTRE_TIME,
         "published_start": published, "published_finish": published + timedelta(minutes=duration),
         "keep_until": keep_until, "retention_days": ctx.policy.retention_days},
    )


routes = [
    Route("/staff/sessions/{session_id:int}/console", console_page, methods=["GET", "POST"]),
    Route("/staff/sessions/{session_id:int}/console/{sitting_id:int}/{panel:str}", action_panel),
    Route("/staff/sessions/{session_id:int}/display", room_display),
    Route("/staff/sessions/{session_id:int}/record/{document:str}", session_record),
]
