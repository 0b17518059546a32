"""Restart nats-server under traffic (its store kept): every process reconnects and goes on."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.faults import outcomes
from tests.integration.faults.children import Stack
from tests.integration.faults.services import PrivateNats, PrivatePostgres
from tests.integration.faults.traffic import SteadyTraffic, chat_client

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(180)]


async def test_nats_restart_everything_resumes(
    private_pg: PrivatePostgres, private_nats: PrivateNats, tmp_path: Path
) -> None:
    with Stack(
        private_pg, private_nats, tmp_path, CONFAB_SWEEP_AFTER_S="5", CONFAB_SWEEP_EVERY_S="1"
    ) as stack:
        stack.start("relay", "projector", "api", "worker")
        async with SteadyTraffic(stack.port) as traffic, chat_client(stack.port) as chat:
            _, before, _ = await chat.turn("Say hello.")
            assert before["type"] == "message", before
            await chat.send("Name a colour.")
            await chat.until("accepted", timeout=60)
            private_nats.restart()
            final, _ = await chat.until("message", "error", timeout=90)
            assert final["type"] == "message", final
            _, after, _ = await chat.turn("Name a fruit.")
            assert after["type"] == "message", after
        assert traffic.failures == []
        assert len(traffic.replies) >= 1
        outcomes.assert_sound(stack.conninfo, stack.env)  # the children still running
