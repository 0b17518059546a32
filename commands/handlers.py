"""Command handlers and queries: load one aggregate, call one method, save."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from commands.app import ConfabStore
from commands.messages import CompleteResponse, FailResponse, GenerationRequest
from domain.conversation import Conversation
from domain.errors import ConversationNotFound

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)
SAVE_ATTEMPTS = 3


def with_retry_on_conflict(attempt: Callable[[], T]) -> T:
    """Re-run a load-change-save when another writer saved the aggregate first."""
    for _ in range(SAVE_ATTEMPTS - 1):
        try:
            return attempt()
        except IntegrityError:
            continue
    return attempt()


def change(store: ConfabStore, load: Callable[[], A], apply: Callable[[A], object]) -> A:
    """Load one aggregate, apply one change, save it; again if another writer won the race."""

    def attempt() -> A:
        aggregate = load()
        apply(aggregate)
        store.save(aggregate)
        return aggregate

    return with_retry_on_conflict(attempt)


def get_conversation(store: ConfabStore, conversation_id: UUID, user_id: str) -> Conversation:
    """A user's conversation; someone else's is reported as missing, never shown."""
    try:
        conversation: object = store.repository.get(conversation_id)
    except AggregateNotFoundError:
        raise ConversationNotFound("No such conversation.") from None
    if (
        not isinstance(conversation, Conversation)
        or conversation.user_id != user_id
        or conversation.deleted
    ):
        raise ConversationNotFound("No such conversation.")
    return conversation


def complete_response(store: ConfabStore, cmd: CompleteResponse) -> None:
    change(
        store,
        lambda: _load(store, cmd.conversation_id),
        lambda c: c.complete_response(cmd.response_id, cmd.completion),
    )


def fail_response(store: ConfabStore, cmd: FailResponse) -> None:
    change(
        store,
        lambda: _load(store, cmd.conversation_id),
        lambda c: c.fail_response(cmd.response_id, cmd.reason),
    )


def _load(store: ConfabStore, conversation_id: UUID) -> Conversation:
    try:
        conversation: object = store.repository.get(conversation_id)
    except AggregateNotFoundError:
        raise ConversationNotFound(f"No conversation {conversation_id}.") from None
    assert isinstance(conversation, Conversation)
    return conversation


# --- queries ---------------------------------------------------------------------------------


def generation_request(
    store: ConfabStore, conversation_id: UUID, response_id: UUID, max_turns: int
) -> GenerationRequest:
    return request_of(_load(store, conversation_id), response_id, max_turns)


def request_of(conversation: Conversation, response_id: UUID, max_turns: int) -> GenerationRequest:
    """The prompt of a response as the conversation in hand holds it."""
    turn = conversation.response(response_id)
    request = turn.request or {}
    turns = conversation.prompt_turns(response_id, max_turns)
    return GenerationRequest(
        status=turn.status,
        model=request.get("model", ""),
        system_prompt=request.get("system_prompt", ""),
        sampling=dict(request.get("sampling", {})),
        history=[(t.role, t.text) for t in turns],
        prompt_turn_ids=tuple(str(t.id) for t in turns),
        attachments=tuple(tuple(t.attachments or ()) for t in turns),
    )


def transcript(store: ConfabStore, conversation_id: UUID, user_id: str) -> Conversation:
    return get_conversation(store, conversation_id, user_id)
