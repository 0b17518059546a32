"""kill -9 the active relay under traffic: the waiting one takes over; nothing lost or doubled."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.integration.faults import children, outcomes
from tests.integration.faults.children import Stack
from tests.integration.faults.services import PrivateNats, PrivatePostgres
from tests.integration.faults.traffic import SteadyTraffic, chat_client

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(180)]


async def test_relay_killed_standby_takes_over(
    private_pg: PrivatePostgres, private_nats: PrivateNats, tmp_path: Path
) -> None:
    with Stack(private_pg, private_nats, tmp_path) as stack:
        relay, _, _, _ = stack.start("relay", "projector", "api", "worker")
        async with SteadyTraffic(stack.port) as traffic, chat_client(stack.port) as chat:
            _, first, _ = await chat.turn("Say hello.")
            assert first["type"] == "message", first  # the first relay is the active one
            stack.start("relay")  # waits on the advisory lock
            await asyncio.sleep(1)
            await chat.send("Name a colour.")
            children.kill9(relay)
            await chat.until("accepted", timeout=60)
            final, _ = await chat.until("message", "error", timeout=90)
            assert final["type"] == "message", final
            _, after, _ = await chat.turn("Name a fruit.")
            assert after["type"] == "message", after
        assert traffic.failures == []
        assert len(traffic.replies) >= 1
        assert len(outcomes.terminal_counts(stack.conninfo)) >= 3 + len(traffic.replies)
        outcomes.assert_sound(stack.conninfo, stack.env)  # the children still running
