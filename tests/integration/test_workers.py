"""Several server processes: refused on SQLite with the reason; on PostgreSQL, `testengine serve
--workers 2` serves the same sessions from two processes, and what one process writes the other
reads (a candidate signs in on one connection and carries on over others)."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import time
from datetime import UTC, datetime

import httpx2 as httpx  # the HTTP client Starlette's TestClient uses (the test extras)
from click.testing import CliRunner

from testengine.cli import main
from testengine.services.demo import create_ready_session, ensure_demo_centre
from testengine.services.runtime import open_runtime
from testengine.settings import Settings
from tests.databases import free_port


def test_several_workers_on_sqlite_are_refused_with_the_reason(tmp_path):
    result = CliRunner().invoke(main, ["serve", "--workers", "2"], env={"TESTENGINE_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert result.exit_code == 1
    assert "--workers 2 needs PostgreSQL. SQLite has one writer" in result.output


def test_two_worker_processes_serve_one_session_on_postgresql(postgres, tmp_path):
    url = postgres.new_database()
    environ = {**os.environ, "TESTENGINE_DATABASE_URL": url, "TESTENGINE_SECRET_KEYS": "workers-test-key"}
    runtime = open_runtime(Settings.from_environ(environ))
    ensure_demo_centre(runtime.engine, datetime.now(UTC))
    ready = create_ready_session(runtime.engine, runtime.catalogue, runtime.policy, "DEMO01", 5, 1, [], False,
                                 datetime.now(UTC), random.Random(3))
    runtime.engine.dispose()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "testengine", "serve", "--port", str(port), "--workers", "2", "--quiet"],
        env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/candidate", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stdout.read() if server.stdout else "the server stopped"
            assert time.monotonic() < deadline, "the server did not start within 60 s"
            time.sleep(0.3)
        workers = subprocess.run(["ps", "-o", "pid=", "--ppid", str(server.pid)], capture_output=True, text=True).stdout.split()
        assert len(workers) >= 2, f"worker processes: {workers}"
        # A new connection for every request, so the kernel spreads them over both processes;
        # the candidate's cookie (signed with the shared key) and state in the database carry over.
        cookies = httpx.Cookies()
        page = httpx.get(f"{base}/candidate", cookies=cookies)
        cookies.update(page.cookies)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        signed = httpx.post(f"{base}/candidate", data={"keycode": ready.candidates[0].keycode, "csrf_token": token},
                            cookies=cookies, follow_redirects=False)
        assert signed.status_code in (302, 303), signed.text[:300]
        cookies.update(signed.cookies)
        for _ in range(20):
            reply = httpx.get(f"{base}/candidate/confirm", cookies=cookies)
            assert reply.status_code == 200 and ready.candidates[0].candidate_number in reply.text
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=20)
        if server.stdout:
            server.stdout.close()
        postgres.drop(url)
