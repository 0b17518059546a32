"""Stop PostgreSQL under traffic: the API answers 503 (HTTP) and a `store_unavailable` error
frame (websocket) with a clear message meanwhile, recovers when it is back, and every turn it
had accepted is answered exactly once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.faults import outcomes
from tests.integration.faults.children import Stack
from tests.integration.faults.services import PrivateNats, PrivatePostgres
from tests.integration.faults.traffic import SteadyTraffic, chat_client, register

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(240)]

RECOVERY_TIMEOUT_S = 60.0
HTTP_TIMEOUT_S = 30.0  # a request waits up to 5 s for a connection before its 503


async def until_ok(http: httpx.AsyncClient, path: str) -> httpx.Response:
    deadline = time.monotonic() + RECOVERY_TIMEOUT_S
    while True:
        response = await http.get(path)
        if response.status_code == 200:
            return response
        assert time.monotonic() < deadline, (response.status_code, response.text)
        await asyncio.sleep(0.5)


async def test_postgres_stopped_api_answers_503_then_recovers(
    private_pg: PrivatePostgres, private_nats: PrivateNats, tmp_path: Path
) -> None:
    with Stack(private_pg, private_nats, tmp_path, CONFAB_ACK_WAIT_S="5") as stack:
        stack.start("relay", "projector", "api", "worker")
        headers = await register(stack.port)
        base = f"http://127.0.0.1:{stack.port}"
        async with (
            httpx.AsyncClient(base_url=base, headers=headers, timeout=HTTP_TIMEOUT_S) as http,
            SteadyTraffic(stack.port) as traffic,
            chat_client(stack.port) as chat,
        ):
            _, before, _ = await chat.turn("Say hello.")
            assert before["type"] == "message", before
            private_pg.stop()

            listed = await http.get("/api/conversations")
            assert listed.status_code == 503, listed.text
            assert listed.json()["error"]["code"] == "store_unavailable"
            assert "database is unavailable" in listed.json()["error"]["message"]
            ready = await http.get("/readyz")
            assert ready.status_code == 503
            assert "database" in ready.text
            await chat.send("Are you there?")
            refused, _ = await chat.until("accepted", "error", timeout=30)
            assert refused["type"] == "error", refused
            assert refused["code"] == "store_unavailable"

            private_pg.start()
            await until_ok(http, "/api/conversations")
            await until_ok(http, "/readyz")
            _, after, _ = await chat.turn("Name a fruit.")
            assert after["type"] == "message", after
        assert traffic.failures == []
        assert len(traffic.replies) >= 2
        outcomes.assert_sound(stack.conninfo, stack.env)  # the children still running
