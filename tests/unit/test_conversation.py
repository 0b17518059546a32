"""The Conversation aggregate on its own: no services."""

from __future__ import annotations

import uuid

import pytest
from eventsourcing.application import Application

from domain.conversation import (
    COMPLETED,
    FAILED,
    PENDING,
    Completion,
    Conversation,
    ResponseSettings,
)
from domain.errors import (
    ConversationNotFound,
    InvalidField,
    MessageRejected,
    ResponseAlreadyFinished,
    ResponseNotFound,
)
from domain.ids import message_id_for, new_conversation_id, response_id_for

SAMPLING = {"temperature": 0.0, "max_new_tokens": 16}


def completion(text: str = "Paris") -> Completion:
    return Completion(text, "stop", 40, 3, "test-model", 12.5, 50.0)


def started() -> Conversation:
    return Conversation(
        id=new_conversation_id("u1", "c1"), user_id="u1", title="Hello", bot_id="bot-1"
    )


SETTINGS = ResponseSettings("bot-1", "Helper", "m", "be nice", SAMPLING)


def post(conversation: Conversation, client_msg_id: str = "c1", text: str = "Hi") -> tuple:
    return conversation.post_message("u1", client_msg_id, text, {"intent": "x"}, SETTINGS)


def test_posting_records_message_and_request_in_order() -> None:
    conversation = started()
    message_id, response_id = post(conversation)
    names = [type(e).__name__ for e in conversation.collect_events()]
    assert names == ["Started", "MessagePosted", "ResponseRequested"]
    assert message_id == message_id_for(conversation.id, "c1")
    assert response_id == response_id_for(message_id)
    assert conversation.response(response_id).status == PENDING
    assert conversation.response(response_id).request == {
        "model": "m",
        "system_prompt": "be nice",
        "sampling": SAMPLING,
        "bot_id": "bot-1",
        "bot_name": "Helper",
    }


def test_ids_are_deterministic_so_retries_repeat_no_work() -> None:
    assert new_conversation_id("u1", "c1") == new_conversation_id("u1", "c1")
    assert new_conversation_id("u1", "c1") != new_conversation_id("u2", "c1")


@pytest.mark.parametrize("text", ["", "   \n", "x" * 32_001])
def test_empty_or_oversized_messages_are_rejected_and_record_nothing(text: str) -> None:
    conversation = started()
    conversation.collect_events()
    with pytest.raises(MessageRejected):
        post(conversation, text=text)
    assert conversation.collect_events() == []


def test_a_response_finishes_exactly_once() -> None:
    conversation = started()
    _, response_id = post(conversation)
    conversation.complete_response(response_id, completion())
    turn = conversation.response(response_id)
    assert turn.status == COMPLETED and turn.text == "Paris"
    assert turn.usage is not None and turn.usage["completion_tokens"] == 3
    with pytest.raises(ResponseAlreadyFinished):
        conversation.complete_response(response_id, completion("again"))
    with pytest.raises(ResponseAlreadyFinished):
        conversation.fail_response(response_id, "late failure")


def test_a_failed_response_keeps_its_reason() -> None:
    conversation = started()
    _, response_id = post(conversation)
    conversation.fail_response(response_id, "model crashed")
    assert conversation.response(response_id).status == FAILED
    assert conversation.response(response_id).error == "model crashed"


def test_unknown_response_is_an_error() -> None:
    with pytest.raises(ResponseNotFound):
        started().complete_response(uuid.uuid4(), completion())


def test_history_holds_finished_turns_before_the_response_newest_kept() -> None:
    conversation = started()
    _, first = post(conversation, "c1", "one")
    conversation.complete_response(first, completion("answer one"))
    _, failed = post(conversation, "c2", "two")
    conversation.fail_response(failed, "boom")
    _, third = post(conversation, "c3", "three")
    assert conversation.history_before(third, max_turns=10) == [
        ("user", "one"),
        ("assistant", "answer one"),
        ("user", "two"),
        ("user", "three"),
    ]
    assert conversation.history_before(third, max_turns=2) == [("user", "two"), ("user", "three")]


def test_replaying_stored_events_rebuilds_the_same_transcript() -> None:
    app: Application = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    conversation = started()
    _, response_id = post(conversation)
    conversation.complete_response(response_id, completion())
    app.save(conversation)
    copy: Conversation = app.repository.get(conversation.id)
    assert copy.turns == conversation.turns
    assert copy.message_for_client_id("c1") is not None


def test_an_edit_starts_a_branch_and_keeps_the_original() -> None:
    conversation = started()
    _, first = post(conversation, "c1", "one")
    conversation.complete_response(first, completion("answer one"))
    second_msg, second = post(conversation, "c2", "two")
    conversation.complete_response(second, completion("answer two"))
    edited_msg, edited = conversation.edit_message(
        second_msg, "u1", "c3", "two, edited", {}, SETTINGS
    )
    assert conversation.turn(edited_msg, "user").parent_id == first
    assert conversation.turn(second_msg, "user").text == "two"  # the original stays
    assert conversation.history_before(edited, 10) == [
        ("user", "one"),
        ("assistant", "answer one"),
        ("user", "two, edited"),
    ]
    assert conversation.leaf == edited


def test_editing_the_first_message_starts_a_branch_from_the_beginning() -> None:
    app: Application = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    conversation = started()
    first_msg, first = post(conversation, "c1", "one")
    conversation.complete_response(first, completion("answer one"))
    _, second = post(conversation, "c2", "two")
    conversation.complete_response(second, completion("answer two"))
    edited_msg, edited = conversation.edit_message(first_msg, "u1", "c3", "uno", {}, SETTINGS)
    app.save(conversation)
    for view in (conversation, app.repository.get(conversation.id)):
        assert view.turn(edited_msg, "user").parent_id is None  # a sibling of the first message
        assert view.history_before(edited, 10) == [("user", "uno")]
        assert view.leaf == edited


def test_regenerate_adds_an_alternative_response_to_the_same_message() -> None:
    conversation = started()
    message_id, first = post(conversation)
    conversation.complete_response(first, completion("first try"))
    again = conversation.regenerate(message_id, SETTINGS)
    assert again != first
    alternatives = [t.id for t in conversation.turns if t.parent_id == message_id]
    assert alternatives == [first, again]
    assert conversation.history_before(again, 10) == [("user", "Hi")]


def test_a_cancelled_response_is_terminal_and_feedback_is_kept() -> None:
    conversation = started()
    _, response_id = post(conversation)
    conversation.cancel_response(response_id, by="u1")
    assert conversation.response(response_id).status == "cancelled"
    with pytest.raises(ResponseAlreadyFinished):
        conversation.complete_response(response_id, completion())
    conversation.give_feedback(response_id, -1, " too long ", by="u1")
    assert conversation.response(response_id).feedback == {"rating": -1, "comment": "too long"}
    with pytest.raises(InvalidField):
        conversation.give_feedback(response_id, 5, "", by="u1")


def test_a_deleted_conversation_takes_no_more_messages() -> None:
    conversation = started()
    conversation.rename("Trip plans", by="u1")
    assert conversation.title == "Trip plans"
    with pytest.raises(InvalidField):
        conversation.rename("   ", by="u1")
    conversation.delete(by="u1")
    with pytest.raises(ConversationNotFound):
        post(conversation, "c9", "still there?")
