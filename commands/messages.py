"""Commands: requests that may be refused. Results: what an accepted command returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands.wire import EventEnvelope
from domain.conversation import Completion


@dataclass(frozen=True)
class CompleteResponse:
    conversation_id: UUID
    response_id: UUID
    completion: Completion


@dataclass(frozen=True)
class FailResponse:
    conversation_id: UUID
    response_id: UUID
    reason: str


@dataclass(frozen=True)
class GenerationRequest:
    """Everything the worker needs to answer one ResponseRequested, read from the log."""

    status: str
    model: str
    system_prompt: str
    sampling: dict[str, Any]
    history: list[tuple[str, str]]
    prompt_turn_ids: tuple[str, ...] = ()  # the turns of `history`, recorded on the completion
    attachments: tuple[tuple[dict[str, Any], ...], ...] = ()  # files of each `history` turn


@dataclass(frozen=True)
class PromptHint:
    """A response's prompt built from at most `max_turns` turns (see commands/prompts.py)."""

    max_turns: int
    request: GenerationRequest


@dataclass(frozen=True)
class Accepted:
    conversation_id: UUID
    message_id: UUID
    client_msg_id: str
    response_id: UUID
    # The ResponseRequested just recorded, as the relay will publish it (None for a resend
    # that recorded nothing new): the API can hand it to the workers at once.
    request: EventEnvelope | None = None
    # The prompt that request asks for, built from the conversation just saved (when the
    # caller asked for one): the workers need not read it back from the log.
    prompt: PromptHint | None = None
