"""kill -9 the active relay under traffic: the waiting one takes over; nothing lost or doubled."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from confab.settings import Settings
from tests.integration.faults import children, outcomes
from tests.integration.faults.services import PrivateNats, PrivatePostgres, free_port
from tests.integration.faults.traffic import chat_client

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(110)]


async def test_relay_killed_standby_takes_over(
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
    )
    children.confab_init(env)
    procs = [children.start(role, env) for role in ("relay", "api", "worker")]
    try:
        async with chat_client(port) as chat:
            _, first, _ = await chat.turn("Say hello.")
            assert first["type"] == "message", first  # the first relay is the active one
            procs.append(children.start("relay", env))  # waits on the advisory lock
            await asyncio.sleep(1)
            await chat.send("Name a colour.")
            children.kill9(procs[0])
            await chat.until("accepted", timeout=60)
            final, _ = await chat.until("message", "error", timeout=90)
            assert final["type"] == "message", final
            _, after, _ = await chat.turn("Name a fruit.")
            assert after["type"] == "message", after
    finally:
        for proc in procs:
            if proc.poll() is None:
                children.kill9(proc)
    counts = outcomes.terminal_counts(private_pg.conninfo(children.DB_NAME))
    assert outcomes.not_exactly_once(private_pg.conninfo(children.DB_NAME)) == {}
    assert len(counts) >= 3
