"""A running Confab on the real parts: PostgreSQL, NATS JetStream, the SmolLM2 model.

The relay, one worker and the API run in this test process's event loop, each exactly as
`confab relay/worker/api` runs it, and are stopped through their stop events.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import io
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import msgspec
import nats
import psycopg
import pytest
from nats.js.errors import NotFoundError
from psycopg import sql

from api.auth import SESSION_COOKIE
from commands.wire import Subjects
from confab import bootstrap, processes
from confab.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reset_database(settings: Settings) -> None:
    with psycopg.connect(settings.conninfo("postgres"), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(settings.db_name)
            )
        )
    bootstrap.ensure_database(settings)


async def reset_stream(settings: Settings) -> None:
    nc = await nats.connect(settings.nats_url)
    with contextlib.suppress(NotFoundError):
        await nc.jetstream().delete_stream(Subjects(settings.bus_prefix).stream)
    await nc.close()


OPEN_RESPONSES_SQL = """
SELECT count(*) FILTER (WHERE topic LIKE '%.ResponseRequested')
     - count(*) FILTER (WHERE topic LIKE '%.ResponseCompleted' OR topic LIKE '%.ResponseFailed'
                        OR topic LIKE '%.ResponseCancelled')
FROM confab_events"""


@dataclass
class Account:
    email: str
    password: str
    user_id: str
    cookie: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Cookie": f"{SESSION_COOKIE}={self.cookie}"}


@dataclass
class Stack:
    settings: Settings
    base_url: str
    ws_url: str
    subjects: Subjects

    def stored_events(self, aggregate_id: str) -> list[str]:
        """Names of a conversation's stored events, in order."""
        with psycopg.connect(self.settings.conninfo()) as conn:
            rows = conn.execute(
                "SELECT topic FROM confab_events WHERE originator_id = %s "
                "ORDER BY originator_version",
                (aggregate_id,),
            ).fetchall()
        return [row[0].rsplit(".", 1)[-1] for row in rows]

    async def register(
        self, email: str | None = None, password: str = "correct horse 1"
    ) -> Account:
        """A new account, logged in: its session cookie authenticates HTTP and the websocket."""
        email = email or f"{uuid.uuid4().hex[:10]}@example.com"
        async with httpx.AsyncClient(base_url=self.base_url) as http:
            response = await http.post(
                "/api/auth/register",
                json={"email": email, "password": password, "display_name": email.split("@")[0]},
            )
        assert response.status_code == 201, response.text
        return Account(
            email, password, response.json()["user_id"], response.cookies[SESSION_COOKIE]
        )

    def http(self, account: Account | None = None) -> httpx.AsyncClient:
        cookies = {SESSION_COOKIE: account.cookie} if account else None
        return httpx.AsyncClient(base_url=self.base_url, cookies=cookies)

    async def event_count(self) -> int:
        """Events in the store once every asked-for response has its outcome.

        Replies that earlier tests left generating would otherwise land in the middle of a
        "bad input stores nothing" check. The wait yields to the event loop: the stack's
        worker runs on it and could not finish those replies while a test blocked it.
        """
        with psycopg.connect(self.settings.conninfo(), autocommit=True) as conn:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(120):
                    while True:
                        row = conn.execute(OPEN_RESPONSES_SQL).fetchone()
                        if not row or row[0] == 0:
                            break
                        await asyncio.sleep(0.05)
            row = conn.execute("SELECT count(*) FROM confab_events").fetchone()
        return int(row[0]) if row else 0


@pytest.fixture(scope="session")
async def stack(settings: Settings) -> AsyncIterator[Stack]:
    async with running_stack(settings) as running:
        yield running


@contextlib.asynccontextmanager
async def running_stack(settings: Settings) -> AsyncIterator[Stack]:
    """Relay, projector, one worker and the API on a fresh database and stream, until exit."""
    port = free_port()
    settings = msgspec.structs.replace(settings, api_port=port)
    reset_database(settings)
    await reset_stream(settings)
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(processes.run_relay(settings, stop), name="relay"),
        asyncio.create_task(processes.run_projector(settings, stop), name="projector"),
        asyncio.create_task(processes.run_worker(settings, stop), name="worker"),
        asyncio.create_task(processes.run_api(settings, stop), name="api"),
    ]
    await wait_until_serving(port, tasks)
    yield Stack(
        settings,
        f"http://127.0.0.1:{port}",
        f"ws://127.0.0.1:{port}/ws",
        Subjects(settings.bus_prefix),
    )
    stop.set()
    await stopped(tasks, STOP_WITHIN_S)


# What a stop may take by design: the worker's last fetch (1 s), its drain grace for replies in
# flight (20 s), then a NATS drain (at most 5 s) and its final flush (at most 10 s).
STOP_WITHIN_S = 45


async def stopped(tasks: list[asyncio.Task[None]], within_s: float) -> None:
    """Every process's task ends, or the failure shows where each one was still waiting (and,
    should the event loop itself be blocked, every thread's stack is written to stderr)."""
    faulthandler.dump_traceback_later(within_s + 5)
    try:
        _, pending = await asyncio.wait(tasks, timeout=within_s)
    finally:
        faulthandler.cancel_dump_traceback_later()
    if pending:
        where = "\n".join(f"{task.get_name()}:\n{stack_of(task)}" for task in pending)
        for task in pending:
            task.cancel()
        raise TimeoutError(f"not stopped within {within_s} s:\n{where}")
    for task in tasks:
        task.result()  # a process that failed on its way out fails the test


def stack_of(task: asyncio.Task[None]) -> str:
    out = io.StringIO()
    task.print_stack(file=out)
    return out.getvalue()


async def wait_until_serving(port: int, tasks: list[asyncio.Task[None]]) -> None:
    for _ in range(600):
        for task in tasks:
            if task.done():
                task.result()  # surfaces the error of a process that died on start
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.1)
    raise TimeoutError("the API did not start")


@pytest.fixture(scope="session")
async def alice(stack: Stack) -> Account:
    return await stack.register("alice@example.com")


@pytest.fixture(scope="session")
async def bob(stack: Stack) -> Account:
    return await stack.register("bob@example.com")
