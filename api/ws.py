"""The chat websocket: client frames in, accepted/delta/message/notice/error frames out.

The handshake must carry a session cookie or a bearer token; anonymous sockets are closed
with code 4401 before they are accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import platform
import time
from typing import Any
from uuid import UUID

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from api import metrics
from api.auth import authenticate
from api.early import publish_early
from api.hub import Hub, Outbox
from api.schemas import (
    MAX_CLIENT_MSG_ID,
    AcceptedFrame,
    ClientFrame,
    EditFrame,
    ErrorFrame,
    FeedbackFrame,
    NoticeFrame,
    RegenerateFrame,
    SendFrame,
    StopFrame,
    WatchFrame,
)
from commands import chat, handlers, turns
from commands.bus import CommandBus
from commands.files import owned_file
from commands.messages import Accepted
from commands.outages import STORE_UNAVAILABLE, UNAVAILABLE_MESSAGE
from commands.parsing import parse
from commands.routing import BotChoice, find_by_mention
from domain.errors import BotNotFound, DomainError, MessageRejected
from domain.user import User
from projections.queries import ReadModels
from projections.search.port import SearchQuery, SearchView

log = logging.getLogger("confab.ws")

UNAUTHORIZED = 4401
TRY_AGAIN_LATER = 1013
HELP = (
    "Commands: /bot NAME [message] talks to another bot (or @name in a message); "
    "/new starts a new chat; /search TEXT finds your conversations; /help shows this."
)

_decoder = msgspec.json.Decoder(ClientFrame)
_encoder = msgspec.json.Encoder()
Socket = WebSocket[Any, Any, Any]


class BadFrame(DomainError):
    code = "bad_frame"


def parse_frame(raw: str | bytes) -> ClientFrame:
    """A client frame, or a BadFrame error that says what is wrong."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadFrame("The frame is not valid UTF-8.") from None
    try:
        frame = _decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise BadFrame(f"Invalid frame: {exc}") from None
    except msgspec.DecodeError:
        raise BadFrame("The frame is not valid JSON.") from None
    if not frame.client_msg_id or len(frame.client_msg_id) > MAX_CLIENT_MSG_ID:
        raise BadFrame(f"client_msg_id must be 1 to {MAX_CLIENT_MSG_ID} characters.")
    return frame


def accepted_frame(accepted: Accepted) -> AcceptedFrame:
    return AcceptedFrame(
        conversation_id=str(accepted.conversation_id),
        message_id=str(accepted.message_id),
        client_msg_id=accepted.client_msg_id,
        response_id=str(accepted.response_id),
    )


def required_uuid(value: str, field: str) -> UUID:
    found = optional_uuid(value, field)
    assert found is not None
    return found


def optional_uuid(value: str | None, field: str) -> UUID | None:
    if value is None:
        return None
    try:
        return UUID(value)
    except ValueError:
        raise BadFrame(f"{field} is not a valid id.") from None


# Which API process holds a socket: replicas behind a load balancer are told apart by it.
INSTANCE = f"{platform.node()}-{os.getpid()}"


@websocket("/ws")
async def chat_socket(socket: Socket) -> None:
    try:
        user = await authenticate(socket)
    except STORE_UNAVAILABLE:
        # 1013 "try again later": the page's reconnect loop comes back once PostgreSQL is up.
        await socket.close(code=TRY_AGAIN_LATER, reason="the database is unavailable")
        return
    if user is None:
        await socket.close(code=UNAUTHORIZED, reason="log in first")
        return
    await socket.accept(headers={"X-Confab-Instance": INSTANCE})
    session = ChatSession(socket.app.state.bus, socket.app.state.hub, socket.app.state.read, user)
    session.search = socket.app.state.search
    session.max_attachments = socket.app.state.max_attachments
    writer = asyncio.create_task(_write(socket, session.outbox))
    try:
        while True:
            message = await socket.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            data = message.get("bytes")
            raw: str | bytes = text if isinstance(text, str) else data or b""  # type: ignore[assignment]
            await session.handle(raw)
    except WebSocketDisconnect:
        pass
    finally:
        session.hub.unwatch_all(session.outbox)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer


class ChatSession:
    """One socket's conversation with Confab: commands answered here, messages posted."""

    def __init__(self, bus: CommandBus, hub: Hub, read: ReadModels, user: User) -> None:
        self.bus, self.hub, self.read, self.user = bus, hub, read, user
        self.outbox: Outbox = asyncio.Queue()
        self.search: SearchView | None = None
        self.max_attachments = 10

    async def handle(self, raw: str | bytes) -> None:
        client_msg_id = None
        try:
            frame = parse_frame(raw)
            client_msg_id = frame.client_msg_id
            await self._dispatch(frame)
        except DomainError as exc:
            metrics.ERRORS.labels(exc.code).inc()
            self.outbox.put_nowait(ErrorFrame(exc.code, exc.message, client_msg_id=client_msg_id))
        except STORE_UNAVAILABLE as exc:
            metrics.ERRORS.labels("store_unavailable").inc()
            log.warning("store unavailable while handling a frame: %s", exc)
            self.outbox.put_nowait(
                ErrorFrame("store_unavailable", UNAVAILABLE_MESSAGE, client_msg_id=client_msg_id)
            )
        except Exception:
            metrics.ERRORS.labels("internal_error").inc()
            log.exception("handling a frame failed")
            self.outbox.put_nowait(
                ErrorFrame(
                    "internal_error",
                    "Something went wrong on our side; try again.",
                    client_msg_id=client_msg_id,
                )
            )

    async def _dispatch(self, frame: ClientFrame) -> None:
        if not isinstance(frame, SendFrame):
            await self._change(frame)
            return
        conversation_id = optional_uuid(frame.conversation_id, "conversation_id")
        bot_id = optional_uuid(frame.bot_id, "bot_id")
        parsed = parse(frame.text)
        notice = NoticeFrame(kind=parsed.command or "", text="", client_msg_id=frame.client_msg_id)
        if parsed.command == "help":
            self.outbox.put_nowait(msgspec.structs.replace(notice, text=HELP))
        elif parsed.command == "new":
            self.outbox.put_nowait(msgspec.structs.replace(notice, text="New chat."))
        elif parsed.command == "search":
            await self._search(notice, parsed.argument)
        elif parsed.command == "bot" and not parsed.text:
            await self._switch(notice, parsed.argument, conversation_id)
        else:
            await self._post(frame, conversation_id, bot_id)

    async def _change(
        self, frame: StopFrame | RegenerateFrame | EditFrame | FeedbackFrame | WatchFrame
    ) -> None:
        """Watch, stop, regenerate, edit or rate a conversation this user owns."""
        conversation_id = required_uuid(frame.conversation_id, "conversation_id")
        user_id = self.user.id
        await self.bus.query(handlers.transcript, conversation_id, str(user_id))  # owner only
        self.hub.watch(str(conversation_id), self.outbox)
        if isinstance(frame, WatchFrame):
            self.outbox.put_nowait(
                NoticeFrame(kind="watch", text="", conversation_id=str(conversation_id))
            )
        elif isinstance(frame, StopFrame):
            response_id = required_uuid(frame.response_id, "response_id")
            await self.bus.call(turns.cancel_response, conversation_id, response_id, user_id)
        elif isinstance(frame, FeedbackFrame):
            response_id = required_uuid(frame.response_id, "response_id")
            await self.bus.call(
                turns.give_feedback,
                conversation_id,
                response_id,
                user_id,
                frame.rating,
                frame.comment,
            )
            self.outbox.put_nowait(
                NoticeFrame(kind="feedback", text="Thanks for the feedback.", bot_id=None)
            )
        else:
            message_id = required_uuid(frame.message_id, "message_id")
            if isinstance(frame, RegenerateFrame):
                accepted = await self.bus.call(
                    turns.regenerate, conversation_id, message_id, user_id
                )
            else:
                accepted = await self.bus.call(
                    turns.edit_message,
                    conversation_id,
                    message_id,
                    user_id,
                    frame.client_msg_id,
                    frame.text,
                )
            self.outbox.put_nowait(accepted_frame(accepted))

    def _choices(self) -> list[BotChoice]:
        """The bots this user may mention (a read model query: run it on a store thread)."""
        rows = self.read.bots_for(str(self.user.id))
        return [BotChoice(r.bot_id, r.persona.name, r.persona.description) for r in rows]

    async def _candidates(self) -> list[BotChoice]:
        return await self.bus.run(self._choices)

    async def _post(self, frame: SendFrame, conversation_id: UUID | None, bot: UUID | None) -> None:
        started = time.perf_counter()
        cmd = chat.PostMessage(
            user_id=self.user.id,
            client_msg_id=frame.client_msg_id,
            text=frame.text,
            conversation_id=conversation_id,
            bot_id=bot,
            parent_id=optional_uuid(frame.parent_id, "parent_id"),
            attachments=tuple(await self._attachments(frame.attachments)),
        )
        if conversation_id is not None:
            self.hub.watch(str(conversation_id), self.outbox)  # before the save: no delta missed
        accepted = await self.bus.post_message(cmd, self._choices)
        self.hub.watch(str(accepted.conversation_id), self.outbox)  # before the worker starts
        await publish_early(self.hub.nc, self.hub.subjects, accepted)
        self.outbox.put_nowait(accepted_frame(accepted))
        metrics.ACCEPTED.inc()
        metrics.ACCEPT_SECONDS.observe(time.perf_counter() - started)
        log.info(
            "message accepted",
            extra={
                "request_id": str(accepted.response_id),
                "conversation_id": str(accepted.conversation_id),
                "user_id": str(self.user.id),
            },
        )

    async def _attachments(self, file_ids: list[str]) -> list[dict[str, Any]]:
        """The summaries of the user's own files; anyone else's is "no such file"."""
        limit = self.max_attachments
        if len(file_ids) > limit:
            raise MessageRejected(f"A message can carry at most {limit} files.")
        found = []
        for file_id in dict.fromkeys(file_ids):
            uuid = optional_uuid(file_id, "attachments")
            assert uuid is not None
            found.append(await self.bus.call(owned_file, uuid, str(self.user.id)))
        return [f.summary() for f in found]

    async def _switch(self, notice: NoticeFrame, name: str, conversation_id: UUID | None) -> None:
        chosen = find_by_mention(name.lstrip("@"), await self._candidates()) if name else None
        if chosen is None:
            raise BotNotFound(f"No bot called {name!r} that you can use.")
        if conversation_id is not None:
            await self.bus.call(chat.switch_bot, conversation_id, self.user.id, UUID(chosen.bot_id))
        self.outbox.put_nowait(
            msgspec.structs.replace(
                notice,
                text=f"Now chatting with {chosen.name}.",
                bot_id=chosen.bot_id,
                conversation_id=str(conversation_id) if conversation_id else None,
            )
        )

    async def _search(self, notice: NoticeFrame, text: str) -> None:
        assert self.search is not None
        found = await self.search.search(
            SearchQuery(user_id=str(self.user.id), text=text, limit=10)
        )
        results = [
            {
                "conversation_id": hit.conversation_id,
                "message_id": hit.message_id,
                "role": hit.role,
                "snippet": hit.snippet,
                "bot_name": hit.bot_name,
                "at": hit.at.isoformat(),
            }
            for hit in found.hits
        ]
        summary = f"{found.total} message(s) match {text!r}." if text else "Search for what?"
        self.outbox.put_nowait(msgspec.structs.replace(notice, text=summary, results=results))


async def _write(socket: Socket, outbox: Outbox) -> None:
    while True:
        frame = await outbox.get()
        await socket.send_text(_encoder.encode(frame).decode())
