"""A worker process drains on SIGTERM: it takes nothing new, finishes what it holds, and exits.

`confab worker` runs as a real child process on a database and subject prefix of its own; the
relay and projector run in this test's loop.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import nats
import psycopg
import pytest
from nats.aio.msg import Msg

from commands import accounts, chat
from commands.wire import Subjects
from confab import bootstrap, processes
from confab.settings import Settings
from tests.integration.conftest import reset_database, reset_stream, stopped
from tests.integration.waiting import eventually

COUNTING = "Count from 1 to 100, one number per line."


def event_names(settings: Settings, conversation_id: uuid.UUID) -> list[str]:
    with psycopg.connect(settings.conninfo()) as conn:
        rows = conn.execute(
            "SELECT topic FROM confab_events WHERE originator_id = %s ORDER BY originator_version",
            (conversation_id,),
        ).fetchall()
    return [row[0].rsplit(".", 1)[-1] for row in rows]


@pytest.fixture
async def own(settings: Settings) -> AsyncIterator[tuple[Settings, asyncio.Event, list]]:
    """A relay and a projector on a database of their own; workers are up to each test."""
    mine = msgspec.structs.replace(
        settings,
        db_name=f"{settings.db_name}_drain",
        bus_prefix=f"{settings.bus_prefix}drain",
        sweep_after_s=600.0,
    )
    reset_database(mine)
    await reset_stream(mine)
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(processes.run_relay(mine, stop)),
        asyncio.create_task(processes.run_projector(mine, stop)),
    ]
    yield mine, stop, tasks
    stop.set()
    await stopped(tasks, 30)


def post(settings: Settings, text: str) -> uuid.UUID:
    store = bootstrap.build_store(settings)
    try:
        user = accounts.register(store, f"{uuid.uuid4().hex[:8]}@example.com", "password1", "U")
        accepted = chat.post_message(store, chat.PostMessage(user.id, "m1", text))
    finally:
        store.close()
    return accepted.conversation_id


async def start_worker(settings: Settings) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "CONFAB_DB_NAME": settings.db_name,
        "CONFAB_BUS_PREFIX": settings.bus_prefix,
        "CONFAB_DATA_DIR": str(settings.data_dir),
        "CONFAB_MODEL_DIR": str(settings.model_dir),
        "CONFAB_MAX_NEW_TOKENS": "300",
        "CONFAB_DRAIN_GRACE_S": "120",
        "CONFAB_GENERATE_TITLES": "0",  # its events end with the outcome they check
        "CONFAB_LOG_LEVEL": "INFO",
    }
    confab = Path(sys.executable).with_name("confab")
    return await asyncio.create_subprocess_exec(
        str(confab), "worker", env=env, stderr=asyncio.subprocess.PIPE
    )


async def test_sigterm_finishes_the_reply_in_flight_takes_nothing_new_and_exits(
    own: tuple[Settings, asyncio.Event, list],
) -> None:
    settings, stop, tasks = own
    subjects = Subjects(settings.bus_prefix)
    nc = await nats.connect(settings.nats_url)
    first_delta = asyncio.Event()

    async def on_delta(_: Msg) -> None:
        first_delta.set()

    await nc.subscribe(subjects.tokens_wildcard, cb=on_delta)
    worker = await start_worker(settings)
    in_flight = post(settings, COUNTING)
    await asyncio.wait_for(first_delta.wait(), timeout=180)

    worker.send_signal(signal.SIGTERM)
    await asyncio.sleep(0.5)  # the worker has seen the signal before the next request exists
    after_stop = post(settings, "Say hi.")
    _, stderr = await asyncio.wait_for(worker.communicate(), timeout=150)
    await nc.close()

    assert worker.returncode == 0, stderr.decode()[-2000:]
    assert "draining 1 requests in flight" in stderr.decode()
    names = event_names(settings, in_flight)
    assert names[-1] == "ResponseCompleted", names
    assert names.count("ResponseCompleted") == 1
    assert "ResponseCompleted" not in event_names(settings, after_stop)

    # The request the draining worker left alone is still on the stream for the next worker.
    tasks.append(asyncio.create_task(processes.run_worker(settings, stop)))

    async def answered() -> bool:
        return "ResponseCompleted" in event_names(settings, after_stop)

    await eventually(answered, timeout=120)
    assert event_names(settings, in_flight).count("ResponseCompleted") == 1
