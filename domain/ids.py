"""Deterministic ids: a retry of the same request derives the same id, so it repeats no work."""

from __future__ import annotations

from uuid import UUID, uuid5

_NAMESPACE = UUID("6f2b8f0e-4d43-4c8e-9a55-1f7c3a1f0c11")


def new_conversation_id(user_id: str, client_msg_id: str) -> UUID:
    """The conversation opened by a user's first message (stable across resends)."""
    return uuid5(_NAMESPACE, f"conversation:{user_id}:{client_msg_id}")


def message_id_for(conversation_id: UUID, client_msg_id: str) -> UUID:
    return uuid5(conversation_id, f"message:{client_msg_id}")


def response_id_for(message_id: UUID, attempt: int = 0) -> UUID:
    return uuid5(message_id, f"response:{attempt}")


def imported_conversation_id(user_id: str, source: str, original_id: str) -> UUID:
    """A conversation imported for a user: importing the same one again finds it."""
    return uuid5(_NAMESPACE, f"imported:{source}:{user_id}:{original_id}")
