"""Imported turns in the Conversation aggregate: original ids, times and branches; no services."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from eventsourcing.application import Application

from domain.conversation import Conversation
from domain.errors import MessageRejected
from domain.ids import imported_conversation_id

THEN = datetime(2023, 5, 13, 17, 46, 40, tzinfo=UTC)


def imported() -> Conversation:
    return Conversation(
        id=imported_conversation_id("u1", "chatgpt", "abc"),
        user_id="u1",
        title="Old chat",
        bot_id="",
        imported_from="chatgpt",
        original_id="abc",
        started_at=THEN,
    )


def test_imported_turns_keep_their_times_branches_and_derive_ids_from_the_original() -> None:
    conversation = imported()
    first = conversation.record_turn("user", "Hi", "chatgpt", "u1", at=THEN, original_id="n1")
    answer = conversation.record_turn(
        "assistant", "Hello", "chatgpt", "u1", at=THEN, original_id="n2", parent_id=first
    )
    edit = conversation.record_turn(
        "user", "Hi again", "chatgpt", "u1", original_id="n3", at_root=True
    )

    assert first == conversation.imported_turn_id("n1")
    assert conversation.turn(answer, "assistant").parent_id == first
    assert conversation.turn(edit, "user").parent_id is None  # a second first message
    assert conversation.turn(first, "user").created_at == THEN
    assert conversation.leaf == edit
    assert conversation.has_turn(answer) and not conversation.has_turn(uuid.uuid4())


def test_an_imported_conversation_replays_with_its_times_and_branches() -> None:
    app: Application = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    conversation = imported()
    first = conversation.record_turn("user", "Hi", "chatgpt", "u1", at=THEN, original_id="n1")
    conversation.record_turn(
        "assistant", "Hey", "chatgpt", "u1", original_id="n2", parent_id=first, model="gpt-4"
    )
    app.save(conversation)

    again: Conversation = app.repository.get(conversation.id)

    assert again.imported_from == "chatgpt"
    assert [(t.role, t.text, t.parent_id) for t in again.turns] == [
        ("user", "Hi", None),
        ("assistant", "Hey", first),
    ]
    assert again.turns[0].created_at == THEN


def test_a_turn_cannot_follow_one_that_is_not_in_the_conversation() -> None:
    conversation = imported()
    with pytest.raises(MessageRejected):
        conversation.record_turn("user", "Hi", "chatgpt", "u1", parent_id=uuid.uuid4())


def test_a_client_history_is_still_recorded_in_order_without_original_ids() -> None:
    conversation = imported()
    first = conversation.record_turn("user", "one", "openai-api", "u1")
    second = conversation.record_turn("assistant", "two", "openai-api", "u1")

    assert conversation.turn(second, "assistant").parent_id == first
    assert first != conversation.imported_turn_id("0")


def test_each_user_gets_their_own_copy_of_the_same_imported_conversation() -> None:
    assert imported_conversation_id("u1", "chatgpt", "abc") != imported_conversation_id(
        "u2", "chatgpt", "abc"
    )


def test_an_imported_chat_keeps_its_title_when_the_model_would_name_it() -> None:
    conversation = imported()

    assert conversation.generate_title("A generated title", "m") is False
    assert conversation.title == "Old chat"
