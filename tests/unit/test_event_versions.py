"""Old events stay in the store as they were written; upcasters read them as today's shape."""

from __future__ import annotations

import json
import uuid

from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent

from domain.conversation import Conversation

TOPIC = "domain.conversation:Conversation"
WHEN = {"_type_": "datetime_iso", "_data_": "2026-11-24T12:00:00+00:00"}


def uuid_value(value: uuid.UUID) -> dict[str, str]:
    return {"_type_": "uuid_hex", "_data_": value.hex}


def stored(conversation_id: uuid.UUID, version: int, name: str, state: dict) -> StoredEvent:
    return StoredEvent(
        originator_id=conversation_id,
        originator_version=version,
        topic=f"{TOPIC}.{name}",
        state=json.dumps({"timestamp": WHEN, **state}).encode(),
    )


def test_a_version_1_conversation_replays_with_upcast_events() -> None:
    """v1 (the walking skeleton) had no bots and no parsing; those fields get defaults."""
    app: Application = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    conversation_id, message_id, response_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    v1_events = [
        stored(
            conversation_id,
            1,
            "Started",
            {"originator_topic": TOPIC, "user_id": "u1", "title": "Old chat"},
        ),
        stored(
            conversation_id,
            2,
            "MessagePosted",
            {
                "message_id": uuid_value(message_id),
                "client_msg_id": "c1",
                "user_id": "u1",
                "text": "Hello from 2026",
            },
        ),
        stored(
            conversation_id,
            3,
            "ResponseRequested",
            {
                "response_id": uuid_value(response_id),
                "message_id": uuid_value(message_id),
                "model": "SmolLM2-135M-Instruct",
                "system_prompt": "You are Confab.",
                "sampling": {"temperature": 0.0},
            },
        ),
    ]
    app.recorder.insert_events(v1_events)

    conversation: Conversation = app.repository.get(conversation_id)

    assert conversation.bot_id == ""
    assert conversation.title == "Old chat"
    message = conversation.message_for_client_id("c1")
    assert message is not None and message.parsed == {}
    request = conversation.response(response_id).request
    assert request is not None
    assert request["bot_name"] == "" and request["system_prompt"] == "You are Confab."
    events = [app.mapper.to_domain_event(e) for e in v1_events]
    assert [type(e).class_version for e in events] == [3, 5, 2]  # type: ignore[attr-defined]
    assert events[1].parent_id is None  # type: ignore[attr-defined]
    assert events[1].at_root is False  # type: ignore[attr-defined]
    assert events[1].attachments == []  # type: ignore[attr-defined]
    response = conversation.response(response_id)
    assert response.parent_id == message_id  # the v1 turns still form one linear branch
    assert conversation.history_before(response_id, 10) == [("user", "Hello from 2026")]


def test_a_conversation_with_recorded_turns_from_before_imports_replays_in_order() -> None:
    """v2 Started had no import origin; v1 TurnRecorded had no time, original id or parent."""
    app: Application = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    conversation_id, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    started = {"originator_topic": TOPIC, "user_id": "u1", "title": "API chat", "bot_id": "b1"}
    old_events = [
        stored(conversation_id, 1, "Started", {**started, "class_version": 2}),
        *(
            stored(
                conversation_id,
                version,
                "TurnRecorded",
                {
                    "turn_id": uuid_value(turn_id),
                    "role": role,
                    "text": text,
                    "source": "openai-api",
                    "by": "u1",
                },
            )
            for version, turn_id, role, text in [
                (2, first, "user", "What is 2+2?"),
                (3, second, "assistant", "4"),
            ]
        ),
    ]
    app.recorder.insert_events(old_events)

    conversation: Conversation = app.repository.get(conversation_id)

    assert conversation.imported_from == ""
    assert [(t.id, t.parent_id) for t in conversation.turns] == [(first, None), (second, first)]
    assert conversation.turns[0].created_at.isoformat() == WHEN["_data_"]
    events = [app.mapper.to_domain_event(e) for e in old_events]
    assert [type(e).class_version for e in events] == [3, 2, 2]  # type: ignore[attr-defined]
    assert events[0].started_at is None and events[0].original_id == ""  # type: ignore[attr-defined]
    assert events[2].at is None and events[2].model == ""  # type: ignore[attr-defined]


def test_a_version_1_response_completed_replays_without_model_version_or_prompt_turns() -> None:
    """ResponseCompleted v1 recorded neither the weights nor which turns were in the prompt."""
    app: Application = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    conversation_id, message_id, response_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    events = [
        stored(
            conversation_id,
            1,
            "Started",
            {"originator_topic": TOPIC, "user_id": "u1", "title": "Old chat", "bot_id": "b"},
        ),
        stored(
            conversation_id,
            2,
            "MessagePosted",
            {
                "message_id": uuid_value(message_id),
                "client_msg_id": "c1",
                "user_id": "u1",
                "text": "Hello",
                "parsed": {},
                "parent_id": None,
                "at_root": False,
                "class_version": 4,
            },
        ),
        stored(
            conversation_id,
            3,
            "ResponseRequested",
            {
                "response_id": uuid_value(response_id),
                "message_id": uuid_value(message_id),
                "model": "SmolLM2-135M-Instruct",
                "system_prompt": "You are Confab.",
                "sampling": {},
                "bot_id": "b",
                "bot_name": "Assistant",
                "class_version": 2,
            },
        ),
        stored(
            conversation_id,
            4,
            "ResponseCompleted",
            {
                "response_id": uuid_value(response_id),
                "text": "Hi there",
                "finish_reason": "stop",
                "prompt_tokens": 20,
                "completion_tokens": 3,
                "model": "SmolLM2-135M-Instruct",
                "ttft_ms": 10.0,
                "total_ms": 30.0,
            },
        ),
    ]
    app.recorder.insert_events(events)

    conversation: Conversation = app.repository.get(conversation_id)

    completed = app.mapper.to_domain_event(events[3])
    assert type(completed).class_version == 2  # type: ignore[attr-defined]
    assert completed.model_version == ""  # type: ignore[attr-defined]
    assert completed.prompt_turn_ids is None  # type: ignore[attr-defined]
    response = conversation.response(response_id)
    assert response.text == "Hi there" and response.prompt_turn_ids is None
    assert response.usage is not None and response.usage["model_version"] == ""
