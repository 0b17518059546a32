"""Restart nats-server under traffic (its store kept): every process reconnects and goes on."""

from __future__ import annotations

from pathlib import Path

import pytest

from confab.settings import Settings
from tests.integration.faults import children, outcomes
from tests.integration.faults.services import PrivateNats, PrivatePostgres, free_port
from tests.integration.faults.traffic import chat_client

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(110)]


async def test_nats_restart_everything_resumes(
    private_pg: PrivatePostgres, private_nats: PrivateNats, tmp_path: Path
) -> None:
    port = free_port()
    env = children.child_env(
        private_pg,
        private_nats,
        tmp_path,
        CONFAB_PORT=str(port),
        CONFAB_MODEL_DIR=str(Settings().model_path),
        CONFAB_MAX_NEW_TOKENS="8",
        CONFAB_SWEEP_AFTER_S="5",
        CONFAB_SWEEP_EVERY_S="1",
    )
    children.confab_init(env)
    procs = [children.start(role, env) for role in ("relay", "api", "worker")]
    try:
        async with chat_client(port) as chat:
            _, before, _ = await chat.turn("Say hello.")
            assert before["type"] == "message", before
            await chat.send("Name a colour.")
            await chat.until("accepted", timeout=60)
            private_nats.restart()
            final, _ = await chat.until("message", "error", timeout=90)
            assert final["type"] == "message", final
            _, after, _ = await chat.turn("Name a fruit.")
            assert after["type"] == "message", after
    finally:
        for proc in procs:
            if proc.poll() is None:
                children.kill9(proc)
    assert outcomes.not_exactly_once(private_pg.conninfo(children.DB_NAME)) == {}
