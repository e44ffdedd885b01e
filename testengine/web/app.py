"""create_app(settings): the one factory. Nothing happens at import time."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from testengine.services.delivery import record_check_ins, save_answers, submit_overdue
from testengine.services.outages import beat, credit_outage
from testengine.services.runtime import Runtime, open_runtime, saves_engine
from testengine.settings import Settings, signing_keys
from testengine.web import accounts, analysis, api, authoring, candidate, console, staff
from testengine.web.answer_queue import AnswerQueue
from testengine.web.check_ins import CheckIns
from testengine.web.context import AppContext, render
from testengine.web.cookies import CookieJar

HERE = Path(__file__).parent
# The collector's thresholds while serving (CPython's defaults: 700, 10, 10). A full collection
# walks the whole heap, tens of milliseconds once forms and connections are loaded, and at the
# defaults came every 20 s or so under a hall's autosaves (measured in the scale benchmark with
# gc.callbacks): each one held every save in flight. Younger collections a little larger and
# full ones ten times rarer take that out of the saves' p99; the garbage is the same.
GC_THRESHOLDS = (5_000, 10, 100)
log = logging.getLogger("testengine")


def utc_now() -> datetime:
    return datetime.now(UTC)


class SecurityHeaders:
    """No inline script anywhere, no framing, and question pages never cached (F6); and the
    server's own time for each request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                # How long the server took, for browsers' dev tools and load tests (W3C Server-Timing).
                headers.append((b"server-timing", f"app;dur={(time.perf_counter() - started) * 1000:.1f}".encode()))
                headers += [
                    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                     b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
                    (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                ]
                if not scope["path"].startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(
    settings: Settings,
    clock: Callable[[], datetime] = utc_now,
    rng: random.Random | None = None,
    sweep_seconds: float = 1.0,
    runtime: Runtime | None = None,
) -> Starlette:
    """The ASGI app. `clock` and `rng` are parameters so that tests control time and chance;
    `sweep_seconds` is how often running sittings past their deadline are submitted (0: never,
    for tests that drive the sweep themselves); `runtime`, if given, is used instead of opening
    the database and reading the files again."""
    templates = Jinja2Templates(directory=str(HERE / "templates"))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        opened = runtime or open_runtime(settings)
        engine = opened.engine
        saving = saves_engine(engine)
        app.state.ctx = AppContext(
            settings=settings,
            engine=engine,
            catalogue=opened.catalogue,
            assembler=opened.assembler,
            policy=opened.policy,
            cookies=CookieJar(signing_keys(settings)),
            templates=templates,
            clock=clock,
            rng=rng or random.SystemRandom(),
            answers=AnswerQueue(functools.partial(save_answers, saving, grace_seconds=opened.policy.answer_grace_seconds)),
            check_ins=CheckIns(functools.partial(record_check_ins, engine)),
        )
        # Everything loaded so far (the banks, the solver models) lives as long as the server:
        # move it out of the collector's sight, so full collections stay short under load.
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        sweeper = None
        if sweep_seconds > 0:
            # Time no server was running is given back before any deadline is enforced (D7).
            outage = await run_in_threadpool(credit_outage, engine, clock())
            if outage is not None:
                log.warning("no server ran for %d s: added to %d test(s) in progress", outage.seconds, len(outage.sittings))
            sweeper = asyncio.create_task(_sweep(app.state.ctx, sweep_seconds))
        try:
            yield
        finally:
            if sweeper is not None:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
            if saving is not engine:
                saving.dispose()
            if runtime is None:
                engine.dispose()

    routes = [
        Route("/", home),
        *candidate.routes,
        *analysis.routes,
        *api.routes,
        *authoring.routes,
        *accounts.routes,
        *console.routes,  # before the staff routes, whose /staff/sessions/{id}/{document} would take them
        *staff.routes,
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        # A large room's console is a megabyte of table every few seconds: compressed, a tenth of it.
        middleware=[Middleware(SecurityHeaders), Middleware(GZipMiddleware, minimum_size=2048)],
        exception_handlers={HTTPException: http_error},
    )


TITLES = {400: "Something was wrong with that request", 403: "Not allowed", 404: "Page not found", 405: "Not allowed",
          413: "Too large", 500: "Something went wrong"}


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = exc.detail if exc.detail and exc.detail != TITLES.get(exc.status_code) else "Go back and try again."
    if request.url.path.startswith(("/candidate/answers", "/candidate/flag", "/candidate/focus", "/candidate/clock", "/api/")):
        response: Response = JSONResponse({"message": message, "errors": []}, status_code=exc.status_code)
    else:
        title = TITLES.get(exc.status_code, "Something went wrong")
        response = render(request, "error.html", {"title": title, "message": message, "csrf": ""}, exc.status_code)
    for name, value in (exc.headers or {}).items():  # e.g. Allow on a 405 (RFC 9110)
        response.headers[name] = value
    return response


async def _sweep(ctx: AppContext, seconds: float) -> None:
    """Submit sittings whose time is up, whether or not a browser is open (F2); and show this
    process is running (the heartbeat that outages are measured by)."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await run_in_threadpool(beat, ctx.engine, ctx.clock())
            submitted = await run_in_threadpool(submit_overdue, ctx.engine, ctx.clock())
            if submitted:
                log.info("submitted %d sitting(s) at their deadline", len(submitted))
        except Exception:  # the sweep must outlive one bad sitting; the error is logged
            log.exception("deadline sweep failed")


async def home(request: Request) -> Response:
    return render(request, "home.html", {})


def app_from_environ() -> Starlette:
    """The app with the settings of the environment: what each worker process of
    `testengine serve --workers N` builds (uvicorn imports it by name in every worker)."""
    return create_app(Settings.from_environ())

