"""`confab up --api 2 --workers 1`: two API processes behind nginx, no sticky sessions.

Clients connect through nginx and land on different replicas; every one streams its reply.
Killing a replica (kill -9) mid-reply: its clients reconnect through nginx, which sends them to
a live replica, and receive their answers; each accepted message still has one terminal event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import msgspec
import psycopg
import pytest

from commands.wire import Subjects
from confab.settings import Settings
from tests.integration.conftest import Account, Stack, reset_database, reset_stream
from tests.integration.faults import outcomes
from tests.integration.faults.traffic import SteadyTraffic
from tests.integration.waiting import wait_healthy
from tests.integration.wsclient import ChatClient

START_TIMEOUT_S = 120.0


def free_port_run(width: int) -> int:
    """The first of `width` consecutive free ports (nginx's, then one per API)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base + width < 65000 and all(_free(base + n) for n in range(width)):
            return base
    raise RuntimeError("no run of free ports")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def stack_env(settings: Settings, port: int, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CONFAB_DB_NAME": settings.db_name,
        "CONFAB_BUS_PREFIX": settings.bus_prefix,
        "CONFAB_PORT": str(port),
        "CONFAB_HEALTH_PORT": str(free_port_run(4)),
        "CONFAB_DATA_DIR": str(data_dir),
        "CONFAB_MODEL_DIR": str(settings.model_path),
        "CONFAB_MAX_NEW_TOKENS": "24",
        "CONFAB_GENERATE_TITLES": "0",
        "CONFAB_STORE_THREADS": "4",
        "CONFAB_LOG_LEVEL": "WARNING",
        "CONFAB_ACK_WAIT_S": "10",
    }


@pytest.fixture(scope="module")
def up_settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(
        settings, db_name=f"{settings.db_name}_up", bus_prefix=f"{settings.bus_prefix}up"
    )


@pytest.fixture(scope="module")
def scaled(up_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    reset_database(up_settings)
    asyncio.run(reset_stream(up_settings))
    port = free_port_run(3)
    data_dir = tmp_path_factory.mktemp("up")
    process = subprocess.Popen(
        [sys.executable, "-m", "confab", "up", "--api", "2", "--workers", "1"],
        env=stack_env(up_settings, port, data_dir),
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        urls = [base, f"http://127.0.0.1:{port + 1}", f"http://127.0.0.1:{port + 2}"]
        wait_healthy(urls, START_TIMEOUT_S)
        yield Stack(
            msgspec.structs.replace(up_settings, api_port=port, data_dir=data_dir),
            base,
            f"ws://127.0.0.1:{port}/ws",
            Subjects(up_settings.bus_prefix),
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            assert process.wait(timeout=60) == 0
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)


def children(stack: Stack) -> dict[str, int]:
    status = json.loads((stack.settings.data_dir / "run" / "stack.json").read_text())
    return {row["name"]: row["pid"] for row in status["children"]}


@contextlib.asynccontextmanager
async def client(stack: Stack, account: Account) -> AsyncIterator[tuple[ChatClient, str]]:
    """A websocket through nginx, and the API instance that answered the handshake."""
    async with ChatClient.connect(stack.ws_url, account.headers) as chat:
        response = chat.ws.response
        assert response is not None
        yield chat, response.headers["X-Confab-Instance"]


def terminal_counts(settings: Settings) -> dict[str, int]:
    """For every ResponseRequested, how many terminal events its response has."""
    with psycopg.connect(settings.conninfo()) as conn:
        rows = conn.execute(
            """
            SELECT originator_id::text, topic FROM confab_events
            WHERE topic LIKE '%.Response%' ORDER BY originator_id, originator_version"""
        ).fetchall()
    requested: dict[str, int] = {}
    finished: dict[str, int] = {}
    for conversation, topic in rows:
        name = topic.rsplit(".", 1)[-1]
        if name == "ResponseRequested":
            requested[conversation] = requested.get(conversation, 0) + 1
        elif name in ("ResponseCompleted", "ResponseFailed", "ResponseCancelled"):
            finished[conversation] = finished.get(conversation, 0) + 1
    return {c: finished.get(c, 0) - n for c, n in requested.items()}


async def test_clients_on_different_replicas_all_stream_replies(scaled: Stack) -> None:
    accounts = [await scaled.register() for _ in range(4)]
    async with contextlib.AsyncExitStack() as stack:
        chats = [await stack.enter_async_context(client(scaled, a)) for a in accounts]
        assert len({instance for _, instance in chats}) == 2, "round robin over both replicas"
        turns = await asyncio.gather(
            *(chat.turn(f"Say hello to client {n}.") for n, (chat, _) in enumerate(chats))
        )
    for accepted, final, deltas in turns:
        assert accepted["type"] == "accepted"
        assert final["type"] == "message", final
        assert deltas, "the reply streamed"
        assert "".join(d["text"] for d in deltas).strip() == final["text"].strip()


async def test_killed_replica_clients_reconnect_and_get_answers(scaled: Stack) -> None:
    account = await scaled.register()
    pids = children(scaled)
    async with SteadyTraffic(scaled.settings.api_port) as traffic:  # nginx's port
        async with contextlib.AsyncExitStack() as stack:
            chats = [await stack.enter_async_context(client(scaled, account)) for _ in range(2)]
            sent = []
            for n, (chat, _) in enumerate(chats):
                await chat.send(f"Count from one to twenty, number {n}.")
                accepted, _ = await chat.until("accepted")
                sent.append(accepted)
            for chat, _ in chats:
                await chat.until("delta")  # both replies are under way
            victim = next(
                pid for name, pid in pids.items() if name.startswith("api-") and _holds(pid, chats)
            )
            os.kill(victim, signal.SIGKILL)
        answers = []
        for accepted in sent:
            async with client(scaled, account) as (chat, instance):
                assert not instance.endswith(f"-{victim}")
                answers.append(await _answer(scaled, account, chat, accepted))
    assert all(answers)
    assert traffic.failures == []
    assert len(traffic.replies) >= 1
    counts = terminal_counts(scaled.settings)
    assert all(counts[a["conversation_id"]] == 0 for a in sent), counts
    env = {
        **os.environ,
        "CONFAB_DB_NAME": scaled.settings.db_name,
        "CONFAB_BUS_PREFIX": scaled.settings.bus_prefix,
    }
    outcomes.assert_sound(scaled.settings.conninfo(), env)  # and the views equal a replay
    orphans = [o["response_id"] for o in traffic.orphans]  # the steady client's cut-off turns
    assert set(outcomes.outcomes_of(scaled.settings.conninfo(), orphans).values()) <= {"completed"}


def _holds(pid: int, chats: list[tuple[ChatClient, str]]) -> bool:
    return any(instance.endswith(f"-{pid}") for _, instance in chats)


async def _answer(
    stack: Stack, account: Account, chat: ChatClient, accepted: dict[str, str]
) -> str:
    """The reply to an accepted message: streamed after a watch, or already in the history."""
    conversation = accepted["conversation_id"]
    await chat.frame(type="watch", conversation_id=conversation)
    deadline = time.monotonic() + START_TIMEOUT_S
    async with stack.http(account) as http:
        while time.monotonic() < deadline:
            history = (await http.get(f"/api/conversations/{conversation}")).json()
            replies = [
                m
                for m in history["messages"]
                if m["role"] == "assistant" and m["status"] == "complete"
            ]
            if replies:
                return str(replies[-1]["text"])
            with contextlib.suppress(TimeoutError):
                frame, _ = await chat.until("message", timeout=2)
                if frame["conversation_id"] == conversation:
                    return str(frame["text"])
    return ""
