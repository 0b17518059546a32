"""A chat client against an API child: register, connect, and send turns while faults happen."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import httpx
from websockets.exceptions import ConnectionClosed

from api.auth import SESSION_COOKIE
from tests.integration.waiting import wait_healthy
from tests.integration.wsclient import ChatClient, Frame

START_TIMEOUT_S = 60.0
TURN_TIMEOUT_S = 90.0
REFUSED_PAUSE_S = 0.5


async def register(port: int) -> dict[str, str]:
    """A newly registered person's session, as the headers that carry it."""
    base = f"http://127.0.0.1:{port}"
    wait_healthy([base], START_TIMEOUT_S)
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    async with httpx.AsyncClient(base_url=base) as http:
        response = await http.post(
            "/api/auth/register",
            json={"email": email, "password": "correct horse 1", "display_name": "fault"},
        )
    assert response.status_code == 201, response.text
    return {"Cookie": f"{SESSION_COOKIE}={response.cookies[SESSION_COOKIE]}"}


@contextlib.asynccontextmanager
async def chat_client(port: int) -> AsyncIterator[ChatClient]:
    """A newly registered person's websocket to the API on `port`."""
    headers = await register(port)
    async with ChatClient.connect(f"ws://127.0.0.1:{port}/ws", headers) as chat:
        yield chat


class SteadyTraffic:
    """Another person chatting all through a fault: turn after turn until told to stop.

    Every turn the API accepted must end in a reply; turns it refused (an error frame instead
    of `accepted`, say while the database is down) are counted, never silently dropped. If the
    socket drops (its API replica was killed), the client connects again, as the page does, and
    the turn that was under way is kept in `orphans` for the test to check in the log."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.replies: list[Frame] = []
        self.failures: list[Frame] = []
        self.refusals: list[Frame] = []
        self.orphans: list[Frame] = []  # accepted, then the socket dropped before the reply
        self.reconnects = 0
        self._pending: Frame | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> SteadyTraffic:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._stop.set()
        await asyncio.wait_for(self._task, TURN_TIMEOUT_S)  # the turn under way finishes

    async def _run(self) -> None:
        headers = await register(self.port)
        url = f"ws://127.0.0.1:{self.port}/ws"
        n = 0
        while not self._stop.is_set():
            try:
                async with ChatClient.connect(url, headers) as chat:
                    while not self._stop.is_set():
                        n += 1
                        await self._turn(chat, n)
            except ConnectionClosed:
                self.reconnects += 1
                if self._pending is not None:
                    self.orphans.append(self._pending)
                    self._pending = None
                await asyncio.sleep(REFUSED_PAUSE_S)

    async def _turn(self, chat: ChatClient, n: int) -> None:
        await chat.send(f"Say the number {n}.")
        first, _ = await chat.until("accepted", "error", timeout=TURN_TIMEOUT_S)
        if first["type"] == "error":
            self.refusals.append(first)
            await asyncio.sleep(REFUSED_PAUSE_S)
            return
        self._pending = first
        final, _ = await chat.until("message", "error", timeout=TURN_TIMEOUT_S)
        self._pending = None
        (self.replies if final["type"] == "message" else self.failures).append(final)
