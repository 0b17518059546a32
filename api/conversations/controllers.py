"""Conversations over HTTP: the user's list and one transcript."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, delete, get, patch, put
from litestar.di import Provide

from api.auth import current_user
from api.schemas import Transcript, TranscriptMessage
from commands import handlers, turns
from commands.bus import CommandBus
from domain.conversation import Conversation
from domain.user import User

Req = Request[Any, Any, Any]


class RenameBody(msgspec.Struct, forbid_unknown_fields=True):
    title: str


class FeedbackBody(msgspec.Struct, forbid_unknown_fields=True):
    rating: int
    comment: str = ""


class ConversationSummary(msgspec.Struct):
    id: str
    title: str
    bot_id: str
    bot_name: str | None
    started_at: str
    last_activity: str
    message_count: int


def to_transcript(conversation: Conversation) -> Transcript:
    return Transcript(
        conversation_id=str(conversation.id),
        title=conversation.title,
        bot_id=conversation.bot_id,
        leaf_id=str(conversation.leaf) if conversation.leaf else None,
        messages=[
            TranscriptMessage(
                id=str(turn.id),
                role=turn.role,
                text=turn.text,
                created_at=turn.created_at.isoformat(),
                status=turn.status,
                usage=turn.usage,
                error=turn.error or None,
                bot_name=(turn.request or {}).get("bot_name") or None,
                parent_id=str(turn.parent_id) if turn.parent_id else None,
                feedback=turn.feedback,
                attachments=turn.attachments or None,
            )
            for turn in conversation.turns
        ],
    )


class ConversationController(Controller):
    path = "/api/conversations"
    tags = ["conversations"]  # noqa: RUF012
    dependencies = {"user": Provide(current_user)}  # noqa: RUF012

    @get("/")
    async def mine(self, request: Req, user: User) -> list[ConversationSummary]:
        bus: CommandBus = request.app.state.bus
        rows = await bus.run(request.app.state.read.conversations_of, str(user.id))
        return [
            ConversationSummary(
                id=str(r["conversation_id"]),
                title=r["title"],
                bot_id=r["bot_id"],
                bot_name=r["bot_name"],
                started_at=r["started_at"].isoformat(),
                last_activity=r["last_activity"].isoformat(),
                message_count=r["message_count"],
            )
            for r in rows
        ]

    @get("/{conversation_id:uuid}")
    async def transcript(self, request: Req, user: User, conversation_id: UUID) -> Transcript:
        bus: CommandBus = request.app.state.bus
        conversation = await bus.query(handlers.transcript, conversation_id, str(user.id))
        return to_transcript(conversation)

    @patch("/{conversation_id:uuid}")
    async def rename(
        self, request: Req, user: User, conversation_id: UUID, data: RenameBody
    ) -> Transcript:
        bus: CommandBus = request.app.state.bus
        conversation = await bus.call(turns.rename, conversation_id, user.id, data.title)
        await bus.run(request.app.state.read.wait_until_caught_up)
        return to_transcript(conversation)

    @delete("/{conversation_id:uuid}", status_code=204)
    async def remove(self, request: Req, user: User, conversation_id: UUID) -> None:
        """Hidden from every view (the log keeps what happened)."""
        bus: CommandBus = request.app.state.bus
        await bus.call(turns.delete, conversation_id, user.id)
        await bus.run(request.app.state.read.wait_until_caught_up)

    @put("/{conversation_id:uuid}/responses/{response_id:uuid}/feedback", status_code=204)
    async def feedback(
        self,
        request: Req,
        user: User,
        conversation_id: UUID,
        response_id: UUID,
        data: FeedbackBody,
    ) -> None:
        bus: CommandBus = request.app.state.bus
        await bus.call(
            turns.give_feedback, conversation_id, response_id, user.id, data.rating, data.comment
        )
