"""The relay's guarantees and the worker's handling of redeliveries and failures."""

from __future__ import annotations

import asyncio
import uuid

import msgspec
import nats
from nats.aio.msg import Msg

from api.early import publish_early
from commands import chat, handlers
from commands.envelopes import envelope_for
from commands.prompts import PROMPT_HEADER, prompt_from
from commands.wire import EventEnvelope, Subjects
from confab import bootstrap
from domain.conversation import Conversation, ResponseSettings
from tests.integration.conftest import Account, Stack
from tests.integration.waiting import eventually
from tests.integration.wsclient import ChatClient
from workers.relay import Relay


async def test_every_event_is_published_once_with_its_notification_id_as_msg_id(
    stack: Stack, alice: Account
) -> None:
    """The API publishes a chat message's ResponseRequested as soon as it is appended
    (api/early.py) and the relay publishes it again: the stream keeps one. So the stream is in
    log order but for those, which may come before the events appended just ahead of them."""
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        await client.turn("Say one word.")
        await client.turn("And another one.")
    nc = await nats.connect(stack.settings.nats_url)
    js = nc.jetstream()
    info = await js.stream_info(stack.subjects.stream)
    ids, relayed = [], []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await js.get_msg(stack.subjects.stream, seq)
        envelope = msgspec.json.decode(msg.data or b"", type=EventEnvelope)
        assert msg.headers is not None
        assert msg.headers["Nats-Msg-Id"] == str(envelope.position)
        assert msg.subject == stack.subjects.event(envelope.aggregate, envelope.name)
        ids.append(envelope.position)
        if envelope.name != "ResponseRequested":
            relayed.append(envelope.position)
    await nc.close()
    assert len(set(ids)) == len(ids) == await stack.event_count()
    assert relayed == sorted(relayed)


async def test_the_api_hands_a_request_to_the_stream_before_the_relay_and_once(
    stack: Stack, alice: Account
) -> None:
    """No relay follows this stream: the request gets there from the append's own result, with
    the prompt the worker would read from the log, and the relay's later copy (same
    Nats-Msg-Id) is dropped as a duplicate."""
    subjects = Subjects(f"confabearly{uuid.uuid4().hex[:8]}")
    nc = await nats.connect(stack.settings.nats_url)
    js = nc.jetstream()
    await bootstrap.ensure_stream(js, subjects)
    bus = bootstrap.build_bus(stack.settings)
    try:
        accepted = await bus.post_message(
            chat.PostMessage(uuid.UUID(alice.user_id), str(uuid.uuid4()), "Hello there.")
        )
        assert accepted.request is not None and accepted.request.name == "ResponseRequested"
        (logged,) = bus.store.recorder.select_notifications(accepted.request.position, 1)
        assert accepted.request == envelope_for(bus.store, logged)  # what the relay publishes
        await publish_early(nc, subjects, accepted)
        await nc.flush()

        async def stored() -> bool:
            return (await js.stream_info(subjects.stream)).state.messages == 1

        await eventually(stored)
        msg = await js.get_last_msg(subjects.stream, subjects.event("Conversation", "*"))
        envelope = msgspec.json.decode(msg.data or b"", type=EventEnvelope)
        assert envelope.data["response_id"] == str(accepted.response_id)
        assert msg.headers is not None
        assert msg.headers["Nats-Msg-Id"] == str(envelope.position)
        turns = stack.settings.max_history_turns
        from_log = await bus.query(
            handlers.generation_request, accepted.conversation_id, accepted.response_id, turns
        )
        assert from_log.history == [("user", "Hello there.")]
        assert prompt_from(msg.headers[PROMPT_HEADER], turns) == from_log
        assert prompt_from(msg.headers[PROMPT_HEADER], turns + 1) is None  # asked for other

        relay_copy = await js.publish(
            subjects.event("Conversation", "ResponseRequested"),
            msg.data or b"",
            headers={"Nats-Msg-Id": str(envelope.position)},
        )
        assert relay_copy.duplicate
        assert (await js.stream_info(subjects.stream)).state.messages == 1
    finally:
        await js.delete_stream(subjects.stream)
        await nc.close()
        bus.close()


async def test_a_second_relay_waits_while_one_is_active(stack: Stack, alice: Account) -> None:
    bus = bootstrap.build_bus(stack.settings)
    nc, js = await bootstrap.connect_nats(stack.settings, "second-relay")
    second = Relay(bus, js, stack.subjects, stack.settings.conninfo(), bootstrap.ensure_stream)
    task = asyncio.create_task(second.run())

    async def is_waiting() -> bool:
        return second.state == "waiting"

    await eventually(is_waiting)
    assert second.published == 0
    second.stopping.set()
    await asyncio.gather(task, return_exceptions=True)
    await nc.close()
    bus.close()


async def test_redelivered_request_of_a_finished_response_is_acked_and_dropped(
    stack: Stack, alice: Account
) -> None:
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        accepted, _, _ = await client.turn("Say one word.")
    nc = await nats.connect(stack.settings.nats_url)
    js = nc.jetstream()
    requested = stack.subjects.event("Conversation", "ResponseRequested")
    original = await js.get_last_msg(stack.subjects.stream, requested)
    deltas: list[Msg] = []

    async def on_delta(msg: Msg) -> None:
        deltas.append(msg)

    await nc.subscribe(stack.subjects.tokens(accepted["conversation_id"], "*"), cb=on_delta)
    before = await stack.event_count()
    ack = await js.publish(
        requested, original.data or b"", headers={"Nats-Msg-Id": str(uuid.uuid4())}
    )

    async def consumed() -> bool:
        info = await js.consumer_info(stack.subjects.stream, stack.subjects.inference_durable)
        return info.delivered.stream_seq >= ack.seq and info.num_ack_pending == 0

    await eventually(consumed)
    await nc.close()
    assert deltas == []
    assert await stack.event_count() == before


async def test_a_generation_error_becomes_response_failed_with_a_reason(stack: Stack) -> None:
    """Sampling settings the model refuses (they bypass the bot's checked ranges here)."""
    store = bootstrap.build_store(stack.settings)
    conversation = Conversation(id=uuid.uuid4(), user_id="tester", title="t", bot_id="")
    broken = ResponseSettings("", "Broken", "SmolLM2-135M-Instruct", "", {"repetition_penalty": -1})
    _, response_id = conversation.post_message("tester", "c1", "Hello", {}, broken)
    nc = await nats.connect(stack.settings.nats_url)
    failed: asyncio.Queue[EventEnvelope] = asyncio.Queue()

    async def on_failed(msg: Msg) -> None:
        failed.put_nowait(msgspec.json.decode(msg.data, type=EventEnvelope))

    await nc.subscribe(stack.subjects.event("Conversation", "ResponseFailed"), cb=on_failed)
    store.save(conversation)
    event = await asyncio.wait_for(failed.get(), timeout=60)
    await nc.close()
    store.close()

    assert event.aggregate_id == str(conversation.id)
    assert event.data["response_id"] == str(response_id)
    assert "penalty" in event.data["reason"]
    assert stack.stored_events(str(conversation.id)) == [
        "Started",
        "MessagePosted",
        "ResponseRequested",
        "ResponseFailed",
    ]
