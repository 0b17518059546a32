"""A chat client against an API child: register, connect, and send turns while faults happen."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator

import httpx

from api.auth import SESSION_COOKIE
from tests.integration.wsclient import ChatClient

START_TIMEOUT_S = 60.0


def wait_healthy(base: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        assert time.monotonic() < deadline, "api did not become healthy"
        time.sleep(0.3)


@contextlib.asynccontextmanager
async def chat_client(port: int) -> AsyncIterator[ChatClient]:
    """A newly registered person's websocket to the API on `port`."""
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base)
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    async with httpx.AsyncClient(base_url=base) as http:
        response = await http.post(
            "/api/auth/register",
            json={"email": email, "password": "correct horse 1", "display_name": "fault"},
        )
    assert response.status_code == 201, response.text
    headers = {"Cookie": f"{SESSION_COOKIE}={response.cookies[SESSION_COOKIE]}"}
    async with ChatClient.connect(f"ws://127.0.0.1:{port}/ws", headers) as chat:
        yield chat
