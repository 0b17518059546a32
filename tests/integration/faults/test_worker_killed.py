"""kill -9 the inference worker mid-generation: the request is redelivered and completes once."""

from __future__ import annotations

from pathlib import Path

import pytest

from confab.settings import Settings
from tests.integration.faults import children, outcomes
from tests.integration.faults.services import PrivateNats, PrivatePostgres, free_port
from tests.integration.faults.traffic import chat_client

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(110)]


async def test_worker_killed_mid_generation_request_completes_once(
    private_pg: PrivatePostgres, private_nats: PrivateNats, tmp_path: Path
) -> None:
    port = free_port()
    env = children.child_env(
        private_pg,
        private_nats,
        tmp_path,
        CONFAB_PORT=str(port),
        CONFAB_MODEL_DIR=str(Settings().model_path),
        CONFAB_ACK_WAIT_S="4",
        CONFAB_MAX_NEW_TOKENS="48",
    )
    children.confab_init(env)
    procs = [children.start(role, env) for role in ("relay", "api", "worker")]
    try:
        async with chat_client(port) as chat:
            await chat.send("Tell me about the sea.")
            await chat.until("accepted", timeout=60)
            await chat.until("delta", timeout=90)
            children.kill9(procs[2])  # mid-generation: a delta was streamed, no outcome yet
            procs.append(children.start("worker", env))
            final, _ = await chat.until("message", "error", timeout=90)
        assert final["type"] == "message", final
    finally:
        for proc in procs:
            if proc.poll() is None:
                children.kill9(proc)
    assert outcomes.not_exactly_once(private_pg.conninfo(children.DB_NAME)) == {}
