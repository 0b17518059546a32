"""kill -9 the inference worker mid-generation: the request is redelivered and completes once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.faults import children, outcomes
from tests.integration.faults.children import Stack
from tests.integration.faults.services import PrivateNats, PrivatePostgres
from tests.integration.faults.traffic import SteadyTraffic, chat_client

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(180)]


async def test_worker_killed_mid_generation_request_completes_once(
    private_pg: PrivatePostgres, private_nats: PrivateNats, tmp_path: Path
) -> None:
    with Stack(
        private_pg, private_nats, tmp_path, CONFAB_ACK_WAIT_S="4", CONFAB_MAX_NEW_TOKENS="48"
    ) as stack:
        _, _, _, worker = stack.start("relay", "projector", "api", "worker")
        async with SteadyTraffic(stack.port) as traffic, chat_client(stack.port) as chat:
            await chat.send("Tell me about the sea.")
            await chat.until("accepted", timeout=60)
            await chat.until("delta", timeout=90)
            children.kill9(worker)  # mid-generation: a delta was streamed, no outcome yet
            stack.start("worker")
            final, _ = await chat.until("message", "error", timeout=90)
            assert final["type"] == "message", final
        assert traffic.failures == []
        assert len(traffic.replies) >= 1
        outcomes.assert_sound(stack.conninfo, stack.env)  # the children still running
