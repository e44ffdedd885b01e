"""The JSON API for centres' management information systems (described in api_schema.SPEC):
candidates, sessions, bookings and results, each call with a centre's token and seeing only
that centre. Errors are JSON: {"message", "errors"} with 400, 401, 404, 409, 413 or 422."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from testengine.domain.centres import Actor
from testengine.services import api_tokens, centres
from testengine.services.errors import Forbidden, InvalidInput, NotFound
from testengine.web.api_schema import MAX_ID, SPEC
from testengine.web.context import client_address, context, small_json

Handler = Callable[[Request, Actor], Awaitable[Response]]


def _error(status: int, message: str, errors: list[str] | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"message": message, "errors": errors or []}, status_code=status, headers=headers)


def api_call(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Authenticated by the bearer token; the services' refusals become JSON errors."""

    @functools.wraps(handler)
    async def call(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        actor = None
        if scheme.lower() == "bearer" and token.strip():
            actor = await run_in_threadpool(api_tokens.actor_for_token, context(request).engine, token.strip())
        if actor is None:
            return _error(401, "Send a centre's API token as Authorization: Bearer <token>.", headers={"WWW-Authenticate": "Bearer"})
        try:
            for name, value in request.path_params.items():
                if isinstance(value, int) and not 1 <= value <= MAX_ID:
                    raise NotFound(f"no {name.replace('_id', '')} {value}")
            return await handler(request, actor)
        except (NotFound, Forbidden) as missing:
            return _error(404, str(missing) or "Not found.")
        except InvalidInput as invalid:
            return _error(422, "The request could not be done.", invalid.messages)
        except HTTPException as exc:
            return _error(exc.status_code, str(exc.detail))
        except ValueError:
            return _error(400, "The body must be a JSON object.")

    return call


async def _body(request: Request) -> dict[str, Any]:
    body: dict[str, Any] = await small_json(request)
    return body


def _candidate(c: centres.CandidateSummary) -> dict[str, Any]:
    return {"candidate_id": c.candidate_id, "candidate_number": c.candidate_number, "name": c.name, "gender": c.gender,
            "extra_time_percent": c.arrangements.extra_time_percent, "arrangements": c.arrangements.summary()}


def _fields(body: dict[str, Any], allowed: dict[str, type], required: tuple[str, ...]) -> list[str]:
    problems = [f"{name}: this field is not known" for name in body if name not in allowed]
    problems += [f"{name}: required" for name in required if name not in body]
    for name, kind in allowed.items():
        value = body.get(name)
        if name in body and (not isinstance(value, kind) or isinstance(value, bool) and kind is not bool):
            problems.append(f"{name}: should be {'a whole number' if kind is int else 'text'}")
    return problems


@api_call
async def candidates(request: Request, actor: Actor) -> Response:
    ctx = context(request)
    if request.method == "POST":
        body = await _body(request)
        problems = _fields(body, {"candidate_number": str, "name": str, "gender": str}, ("candidate_number", "name"))
        if problems:
            raise InvalidInput(problems)
        try:
            candidate_id = await run_in_threadpool(
                centres.add_candidate, ctx.engine, actor, body["candidate_number"], body["name"], ctx.clock(), client_address(request),
                body.get("gender", ""),
            )
        except InvalidInput as invalid:
            if any("already registered" in m for m in invalid.messages):
                return _error(409, "That candidate number is taken.", invalid.messages)
            raise
        made = await run_in_threadpool(centres.get_candidate, ctx.engine, actor, candidate_id)
        return JSONResponse(_candidate(made), status_code=201)
    listed = await run_in_threadpool(centres.list_candidates, ctx.engine, actor)
    return JSONResponse({"candidates": [_candidate(c) for c in listed]})


@api_call
async def candidate(request: Request, actor: Actor) -> Response:
    found = await run_in_threadpool(centres.get_candidate, context(request).engine, actor, int(request.path_params["candidate_id"]))
    return JSONResponse(_candidate(found))


@api_call
async def sessions(request: Request, actor: Actor) -> Response:
    ctx = context(request)
    listed = await run_in_threadpool(centres.list_sessions, ctx.engine, actor, ctx.catalogue)
    return JSONResponse({"sessions": [
        {"session_id": s.session_id, "unit": s.unit, "unit_title": s.unit_title, "date": s.date, "start_time": s.start_time,
         "room": s.room, "booked": s.booked, "capacity": s.capacity, "practice": s.practice} for s in listed
    ]})


@api_call
async def bookings(request: Request, actor: Actor) -> Response:
    ctx = context(request)
    session_id = int(request.path_params["session_id"])
    body = await _body(request)
    problems = _fields(body, {"candidate_id": int, "seat": str}, ("candidate_id",))
    if not problems and not 1 <= body["candidate_id"] <= MAX_ID:
        problems.append("candidate_id: no such candidate")
    if problems:
        raise InvalidInput(problems)
    try:
        await run_in_threadpool(
            centres.book_candidate, ctx.engine, actor, ctx.policy, ctx.catalogue, session_id, body["candidate_id"], ctx.clock(), ctx.rng,
            str(body.get("seat", "")),
        )
    except InvalidInput as clash:  # the body was right; the booking clashes with what is there
        return _error(409, "The candidate cannot be booked onto this session.", clash.messages)
    return JSONResponse({"session_id": session_id, "candidate_id": body["candidate_id"]}, status_code=201)


@api_call
async def results(request: Request, actor: Actor) -> Response:
    rows = await run_in_threadpool(centres.session_results, context(request).engine, actor, int(request.path_params["session_id"]))
    return JSONResponse({"results": [
        {"candidate_number": r.candidate_number, "name": r.name, "status": r.status, "outcome": r.outcome, "total": r.total,
         "maximum": r.maximum, "cut_score": r.cut_score, "remarked": r.remarked,
         "learning_outcomes": [{"learning_outcome": lo, "score": score, "maximum": top} for lo, score, top in r.by_outcome]}
        for r in rows
    ]})


async def openapi(request: Request) -> Response:
    return JSONResponse(SPEC)


routes = [
    Route("/api/v1/openapi.json", openapi),
    Route("/api/v1/candidates", candidates, methods=["GET", "POST"]),
    Route("/api/v1/candidates/{candidate_id:int}", candidate),
    Route("/api/v1/sessions", sessions),
    Route("/api/v1/sessions/{session_id:int}/bookings", bookings, methods=["POST"]),
    Route("/api/v1/sessions/{session_id:int}/results", results),
]
