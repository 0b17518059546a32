"""Websocket frames and HTTP bodies: msgspec Structs, strict about unknown fields."""

from __future__ import annotations

from typing import Any

import msgspec

MAX_CLIENT_MSG_ID = 100


class SendFrame(msgspec.Struct, tag="send", tag_field="type", forbid_unknown_fields=True):
    client_msg_id: str
    text: str
    conversation_id: str | None = None
    bot_id: str | None = None  # the bot for a new chat
    parent_id: str | None = None  # the turn it follows (the branch shown); default: the newest


class StopFrame(msgspec.Struct, tag="stop", tag_field="type", forbid_unknown_fields=True):
    conversation_id: str
    response_id: str
    client_msg_id: str = "stop"


class RegenerateFrame(
    msgspec.Struct, tag="regenerate", tag_field="type", forbid_unknown_fields=True
):
    conversation_id: str
    message_id: str
    client_msg_id: str = "regenerate"


class EditFrame(msgspec.Struct, tag="edit", tag_field="type", forbid_unknown_fields=True):
    conversation_id: str
    message_id: str
    client_msg_id: str
    text: str


class FeedbackFrame(msgspec.Struct, tag="feedback", tag_field="type", forbid_unknown_fields=True):
    conversation_id: str
    response_id: str
    rating: int
    comment: str = ""
    client_msg_id: str = "feedback"


class WatchFrame(msgspec.Struct, tag="watch", tag_field="type", forbid_unknown_fields=True):
    """After a reconnect: stream this conversation's replies in progress to this socket."""

    conversation_id: str
    client_msg_id: str = "watch"


ClientFrame = SendFrame | StopFrame | RegenerateFrame | EditFrame | FeedbackFrame | WatchFrame


class NoticeFrame(msgspec.Struct, tag="notice", tag_field="type", omit_defaults=True):
    """An answer from Confab itself (help, search results, a bot switch), not from a bot."""

    kind: str
    text: str
    client_msg_id: str | None = None
    conversation_id: str | None = None
    bot_id: str | None = None
    results: list[dict[str, Any]] | None = None


class AcceptedFrame(msgspec.Struct, tag="accepted", tag_field="type"):
    conversation_id: str
    message_id: str
    client_msg_id: str
    response_id: str


class DeltaFrame(msgspec.Struct, tag="delta", tag_field="type"):
    conversation_id: str
    response_id: str
    text: str


class MessageFrame(msgspec.Struct, tag="message", tag_field="type"):
    conversation_id: str
    response_id: str
    role: str
    text: str
    usage: dict[str, Any]


class CancelledFrame(msgspec.Struct, tag="cancelled", tag_field="type"):
    conversation_id: str
    response_id: str


class ErrorFrame(msgspec.Struct, tag="error", tag_field="type", omit_defaults=True):
    code: str
    message: str
    conversation_id: str | None = None
    response_id: str | None = None
    client_msg_id: str | None = None


ServerFrame = AcceptedFrame | DeltaFrame | MessageFrame | ErrorFrame | NoticeFrame | CancelledFrame


class TranscriptMessage(msgspec.Struct):
    id: str
    role: str
    text: str
    created_at: str
    status: str
    usage: dict[str, Any] | None = None
    error: str | None = None
    bot_name: str | None = None
    parent_id: str | None = None
    feedback: dict[str, Any] | None = None


class Transcript(msgspec.Struct):
    """Every turn of the conversation's tree; `leaf_id` ends the branch shown by default."""

    conversation_id: str
    title: str
    bot_id: str
    leaf_id: str | None
    messages: list[TranscriptMessage]


class Health(msgspec.Struct):
    status: str
