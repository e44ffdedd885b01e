"""The floor for the scale benchmark: a bare Starlette endpoint doing the engine's single-row
answer write (the same upsert statement on the same table) and nothing else: no session, no
sitting checks, no group commit. Run by tests.benchmarks.scale under uvicorn.

    TESTENGINE_DATABASE_URL=... uvicorn --factory tests.benchmarks.bare_app:app
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from testengine.storage.database import make_engine
from testengine.storage.sittings import upsert_response


def app() -> Starlette:
    engine = make_engine(os.environ["TESTENGINE_DATABASE_URL"])

    def write(sitting: int, position: int, response: object, sequence: int) -> int:
        with engine.begin() as connection:
            return upsert_response(connection, sitting, position, response, sequence, datetime.now(UTC))

    async def save(request: Request) -> JSONResponse:
        body = await request.json()
        kept = await run_in_threadpool(write, int(body["sitting"]), int(body["position"]), body["response"], int(body["sequence"]))
        return JSONResponse({"sequence": kept})

    return Starlette(routes=[Route("/save", save, methods=["POST"])])
