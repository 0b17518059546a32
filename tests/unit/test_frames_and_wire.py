"""Parsing client frames and naming things on the bus: pure functions."""

from __future__ import annotations

import json

import pytest

from api.ws import BadFrame, SendFrame, optional_uuid, parse_frame
from commands.wire import Subjects, topic_names
from confab.settings import load_settings
from workers.inference import chat_messages


def send(**fields: object) -> str:
    return json.dumps({"type": "send", "client_msg_id": "abc", "text": "hi", **fields})


def test_a_valid_send_frame_parses() -> None:
    frame = parse_frame(send(conversation_id=None))
    assert isinstance(frame, SendFrame)
    assert (frame.client_msg_id, frame.text, frame.conversation_id) == ("abc", "hi", None)


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("{", "not valid JSON"),
        (b"\xff", "UTF-8"),
        (json.dumps({"type": "send", "text": "hi"}), "client_msg_id"),
        (send(text=3), "str"),
        (send(unknown=1), "unknown"),
        (json.dumps({"type": "nope", "client_msg_id": "a", "text": "b"}), "type"),
        (send(client_msg_id=""), "client_msg_id"),
        (send(client_msg_id="x" * 101), "client_msg_id"),
        ("[]", "Expected"),
    ],
)
def test_bad_frames_are_refused_with_a_message_naming_the_problem(
    raw: str | bytes, says: str
) -> None:
    with pytest.raises(BadFrame) as refused:
        parse_frame(raw)
    assert refused.value.code == "bad_frame"
    assert says in refused.value.message


def test_conversation_ids_must_be_uuids() -> None:
    assert optional_uuid(None, "conversation_id") is None
    with pytest.raises(BadFrame):
        optional_uuid("../etc/passwd", "conversation_id")


def test_subjects_derive_from_one_prefix() -> None:
    subjects = Subjects("confab")
    assert subjects.stream == "CONFAB_EVENTS"
    assert subjects.event("Conversation", "ResponseRequested") == (
        "confab.events.Conversation.ResponseRequested"
    )
    assert subjects.tokens("c", "r") == "confab.tokens.c.r"
    assert topic_names("domain.conversation:Conversation.MessagePosted") == (
        "Conversation",
        "MessagePosted",
    )


def test_chat_messages_put_the_system_prompt_first() -> None:
    assert chat_messages("be kind", [("user", "hi")]) == [
        {"role": "system", "content": "be kind"},
        {"role": "user", "content": "hi"},
    ]
    assert chat_messages("", [("user", "hi")]) == [{"role": "user", "content": "hi"}]


def test_settings_come_from_the_environment_with_local_defaults() -> None:
    settings = load_settings({"CONFAB_DB_NAME": "other", "CONFAB_PORT": "9000"})
    assert (settings.db_name, settings.api_port, settings.db_host) == ("other", 9000, "127.0.0.1")
    assert "dbname=other" in settings.conninfo()
    assert "password" not in settings.conninfo()
