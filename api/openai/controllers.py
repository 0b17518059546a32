"""`POST /v1/chat/completions` and `GET /v1/models`: Confab behind the OpenAI wire format.

A request becomes the same events as a chat in the browser: a new conversation per request
(its earlier messages recorded as TurnRecorded), or a turn in the conversation named by the
`conversation_id` extension field. Bots are the models, addressed by their handle.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.response import Stream

from api.auth import authenticate
from api.early import publish_early
from api.hub import Hub, Outbox
from api.openai.errors import (
    OpenAIError,
    invalid,
    model_not_found,
    openai_error_handler,
    unauthenticated,
)
from api.openai.schemas import CompletionRequest, Model, ModelList
from api.openai.translate import (
    chunk_object,
    completion_object,
    now,
    turn_of,
    usage_chunk,
)
from api.schemas import DeltaFrame, ErrorFrame, MessageFrame, ServerFrame
from commands import chat
from commands.bus import CommandBus
from commands.routing import handle_of
from domain.errors import DomainError
from domain.ids import new_conversation_id
from domain.user import User
from projections.queries import BotView

Req = Request[Any, Any, Any]
ANSWER_TIMEOUT_S = 600.0
_decoder = msgspec.json.Decoder(CompletionRequest)


async def caller(request: Req) -> User:
    user = await authenticate(request)
    if user is None:
        raise unauthenticated()
    return user


def parse_request(body: bytes) -> CompletionRequest:
    try:
        return _decoder.decode(body)
    except msgspec.ValidationError as exc:
        message = str(exc)
        if message.startswith("Object contains unknown field"):
            field = message.split("`")[1]
            unrecognized = f"Unrecognized request argument supplied: {field}"
            raise invalid(unrecognized, field) from None
        param = (
            message.rsplit("at `$.", 1)[1].split("`", maxsplit=1)[0]
            if "at `$." in message
            else None
        )
        raise invalid(f"Invalid request: {message}", param) from None
    except msgspec.DecodeError:
        raise invalid("The request body is not valid JSON.") from None


def find_model(bots: list[BotView], model: str) -> BotView:
    wanted = model.strip().lower()
    for bot in bots:
        if wanted in (bot.bot_id, handle_of(bot.persona.name), bot.persona.name.lower()):
            return bot
    raise model_not_found(model)


class OpenAIController(Controller):
    path = "/v1"
    tags = ["openai"]  # noqa: RUF012
    exception_handlers = {OpenAIError: openai_error_handler}  # noqa: RUF012

    @get("/models")
    async def models(self, request: Req) -> ModelList:
        user = await caller(request)
        bus: CommandBus = request.app.state.bus
        bots = await bus.run(request.app.state.read.bots_for, str(user.id))
        return ModelList(
            data=[
                Model(
                    id=handle_of(b.persona.name),
                    created=0,
                    owned_by="confab" if b.builtin else b.owner_id,
                )
                for b in bots
            ]
        )

    @post("/chat/completions", status_code=200)
    async def completions(self, request: Req) -> Response[Any] | Stream:
        user = await caller(request)
        body = parse_request(await request.body())
        turn = turn_of(body)
        bus: CommandBus = request.app.state.bus
        hub: Hub = request.app.state.hub
        bot = find_model(await bus.run(request.app.state.read.bots_for, str(user.id)), body.model)
        model = handle_of(bot.persona.name)
        client_msg_id = f"openai-{uuid.uuid4()}"
        conversation_id = _conversation_id(body, user, client_msg_id)
        outbox: Outbox = asyncio.Queue()
        hub.watch(str(conversation_id), outbox)  # before the save: no delta is missed
        try:
            accepted = await bus.post_message(
                chat.PostMessage(
                    user_id=user.id,
                    client_msg_id=client_msg_id,
                    text=turn.text,
                    conversation_id=conversation_id if body.conversation_id else None,
                    bot_id=uuid.UUID(bot.bot_id),
                    context=turn.context,
                    system_prompt=turn.system_prompt,
                    sampling=turn.sampling,
                    source="openai-api",
                )
            )
        except DomainError as exc:
            hub.unwatch_all(outbox)
            status = 404 if exc.code.endswith("not_found") else 400
            raise OpenAIError(status, exc.message, code=exc.code) from None
        await publish_early(hub.nc, hub.subjects, accepted)
        response_id = str(accepted.response_id)
        frames = _frames(hub, outbox, response_id)
        created = now()
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            return Stream(
                _sse(frames, response_id, model, created, include_usage),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        async for frame in frames:
            if isinstance(frame, MessageFrame):
                return Response(
                    completion_object(response_id, model, frame.text, frame.usage, created)
                )
        raise OpenAIError(500, "The response ended without an answer.", kind="server_error")


def _conversation_id(body: CompletionRequest, user: User, client_msg_id: str) -> uuid.UUID:
    if body.conversation_id is None:
        return new_conversation_id(str(user.id), client_msg_id)
    try:
        return uuid.UUID(body.conversation_id)
    except ValueError:
        raise invalid("conversation_id is not a valid id.", "conversation_id") from None


async def _frames(hub: Hub, outbox: Outbox, response_id: str) -> AsyncIterator[ServerFrame]:
    """This response's deltas, then its final message; a failure raises OpenAIError."""
    try:
        async with asyncio.timeout(ANSWER_TIMEOUT_S):
            while True:
                frame = await outbox.get()
                if getattr(frame, "response_id", None) != response_id:
                    continue
                if isinstance(frame, ErrorFrame):
                    raise OpenAIError(500, frame.message, kind="server_error")
                yield frame
                if isinstance(frame, MessageFrame):
                    return
    except TimeoutError:
        raise OpenAIError(504, "No answer in time; try again.", kind="server_error") from None
    finally:
        hub.unwatch_all(outbox)


async def _sse(
    frames: AsyncIterator[ServerFrame],
    response_id: str,
    model: str,
    created: int,
    include_usage: bool,
) -> AsyncIterator[bytes]:
    def event(payload: object) -> bytes:
        return b"data: " + msgspec.json.encode(payload) + b"\n\n"

    yield event(chunk_object(response_id, model, created, {"role": "assistant", "content": ""}))
    try:
        async for frame in frames:
            if isinstance(frame, DeltaFrame):
                yield event(chunk_object(response_id, model, created, {"content": frame.text}))
            elif isinstance(frame, MessageFrame):
                reason = {"length": "length"}.get(frame.usage.get("finish_reason", ""), "stop")
                yield event(chunk_object(response_id, model, created, {}, reason))
                if include_usage:
                    yield event(usage_chunk(response_id, model, created, frame.usage))
    except OpenAIError as exc:
        yield event(exc.body())
    yield b"data: [DONE]\n\n"
