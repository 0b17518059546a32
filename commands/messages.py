"""Commands: requests that may be refused. Results: what an accepted command returns."""

from __future__ import annotations

from dataclasses import dataclass
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
class Accepted:
    conversation_id: UUID
    message_id: UUID
    client_msg_id: str
    response_id: UUID
    # The ResponseRequested just recorded, as the relay will publish it (None for a resend
    # that recorded nothing new): the API can hand it to the workers at once.
    request: EventEnvelope | None = None
