"""Delete the JetStream stream outright, as if the broker lost its data: the relay and the
worker make the stream and the consumer again, and the requests that were waiting in it are
re-driven from the log by the sweeper and answered."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats
import psycopg
import pytest

from commands.wire import Subjects
from tests.integration.faults import outcomes
from tests.integration.faults.children import Stack
from tests.integration.faults.services import PrivateNats, PrivatePostgres
from tests.integration.faults.traffic import SteadyTraffic, chat_client
from tests.integration.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(240)]


async def wait_relayed(conninfo: str, stream: str, timeout_s: float = 30.0) -> None:
    """Until the relay has published every event in the log (without blocking the loop: the
    steady client runs on it meanwhile)."""

    async def relayed() -> bool:
        async with await psycopg.AsyncConnection.connect(conninfo) as conn:
            cur = await conn.execute(
                "SELECT (SELECT max(notification_id) FROM confab_events)"
                " <= (SELECT position FROM relay_position WHERE stream = %s)",
                (stream,),
            )
            row = await cur.fetchone()
        return bool(row and row[0])

    await eventually(relayed, timeout_s)


async def delete_stream(url: str, stream: str) -> None:
    nc = await nats.connect(url)
    try:
        assert await nc.jetstream().delete_stream(stream)
    finally:
        await nc.drain()


async def test_stream_deleted_waiting_requests_are_redriven_and_answered(
    private_pg: PrivatePostgres, private_nats: PrivateNats, tmp_path: Path
) -> None:
    with Stack(
        private_pg,
        private_nats,
        tmp_path,
        CONFAB_WORKER_CONCURRENCY="1",  # one reply at a time: the next one waits in NATS
        CONFAB_MAX_NEW_TOKENS="48",
        CONFAB_SWEEP_AFTER_S="8",
        CONFAB_SWEEP_EVERY_S="1",
        CONFAB_MAX_REDRIVES="12",
    ) as stack:
        stream = Subjects(stack.subjects_prefix).stream
        stack.start("relay", "projector", "api", "worker")
        async with (
            SteadyTraffic(stack.port) as traffic,
            chat_client(stack.port) as busy,
            chat_client(stack.port) as waiting,
        ):
            await busy.send("Tell me about the sea.")
            await busy.until("delta", timeout=90)  # the worker's one slot is taken
            await waiting.send("Name a colour.")
            await waiting.until("accepted", timeout=60)
            await wait_relayed(stack.conninfo, stream)  # the request is in the stream, unfetched
            await delete_stream(private_nats.url, stream)
            busy_final, _ = await busy.until("message", "error", timeout=120)
            final, _ = await waiting.until("message", "error", timeout=150)
            assert busy_final["type"] == "message", busy_final
            assert final["type"] == "message", final
            await asyncio.sleep(1)
        assert traffic.failures == []
        assert len(traffic.replies) >= 1
        outcomes.assert_sound(stack.conninfo, stack.env)  # the children still running
