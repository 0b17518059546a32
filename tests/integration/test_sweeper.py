"""NATS is never the only copy: requests whose messages vanished are answered from the log.

Each test runs its own relay and projector on a database and subject prefix of its own, so it
can lose the stream and choose when (or whether) a worker runs.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import msgspec
import nats
import psycopg
import pytest
from nats.js.errors import NotFoundError

from commands import accounts, chat
from commands.wire import Subjects
from confab import bootstrap, processes
from confab.settings import Settings
from tests.integration.conftest import reset_database, reset_stream, stopped
from tests.integration.waiting import eventually


def event_names(settings: Settings, conversation_id: uuid.UUID) -> list[str]:
    with psycopg.connect(settings.conninfo()) as conn:
        rows = conn.execute(
            "SELECT topic FROM confab_events WHERE originator_id = %s ORDER BY originator_version",
            (conversation_id,),
        ).fetchall()
    return [row[0].rsplit(".", 1)[-1] for row in rows]


@pytest.fixture
async def lonely(
    settings: Settings, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Settings, asyncio.Event, list]]:
    """A relay (with its sweeper) and a projector, and no worker yet."""
    own = msgspec.structs.replace(
        settings,
        db_name=f"{settings.db_name}_sweep",
        bus_prefix=f"{settings.bus_prefix}sweep",
        sweep_after_s=1.0,
        sweep_every_s=0.2,
        **getattr(request, "param", {}),
    )
    reset_database(own)
    await reset_stream(own)
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(processes.run_relay(own, stop)),
        asyncio.create_task(processes.run_projector(own, stop)),
    ]
    yield own, stop, tasks
    stop.set()
    await stopped(tasks, 30)


def post(settings: Settings) -> uuid.UUID:
    store = bootstrap.build_store(settings)
    try:
        user = accounts.register(store, f"{uuid.uuid4().hex[:8]}@example.com", "password1", "U")
        accepted = chat.post_message(store, chat.PostMessage(user.id, "m1", "Say hi."))
    finally:
        store.close()
    return accepted.conversation_id


# Re-driven every second until the worker, started late, has loaded its model and answers.
@pytest.mark.parametrize("lonely", [{"max_redrives": 1000}], indirect=True)
async def test_a_request_whose_stream_was_lost_is_redriven_from_the_log_and_answered(
    lonely: tuple[Settings, asyncio.Event, list],
) -> None:
    settings, stop, tasks = lonely
    subjects = Subjects(settings.bus_prefix)
    conversation_id = post(settings)
    nc = await nats.connect(settings.nats_url)
    js = nc.jetstream()

    async def published() -> bool:
        try:
            info = await js.stream_info(subjects.stream)
        except NotFoundError:
            return False  # the relay has not made the stream yet
        return info.state.messages >= 3  # Started, MessagePosted, ResponseRequested (+ user)

    await eventually(published)
    await js.delete_stream(subjects.stream)  # as if the broker lost its data
    await nc.close()
    tasks.append(asyncio.create_task(processes.run_worker(settings, stop)))

    async def answered() -> bool:
        return "ResponseCompleted" in event_names(settings, conversation_id)

    await eventually(answered, timeout=120)
    assert event_names(settings, conversation_id) == [
        "Started",
        "MessagePosted",
        "ResponseRequested",
        "ResponseCompleted",
    ]


async def test_a_request_no_worker_answers_ends_as_failed_exactly_once(
    lonely: tuple[Settings, asyncio.Event, list],
) -> None:
    settings, _, _ = lonely
    conversation_id = post(settings)

    async def ended() -> bool:
        return "ResponseFailed" in event_names(settings, conversation_id)

    await eventually(ended, timeout=30)
    names = event_names(settings, conversation_id)
    assert names[-1] == "ResponseFailed"
    assert names.count("ResponseFailed") + names.count("ResponseCompleted") == 1
