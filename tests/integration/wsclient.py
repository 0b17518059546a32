"""A small websocket client for tests: send frames, wait for the frames that matter."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

Frame = dict[str, Any]


class ChatClient:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    def connect(cls, url: str, headers: dict[str, str] | None = None) -> Any:
        return _Connect(url, headers or {})

    async def send(
        self,
        text: str,
        conversation_id: str | None = None,
        client_msg_id: str | None = None,
        bot_id: str | None = None,
    ) -> str:
        client_msg_id = client_msg_id or str(uuid.uuid4())
        frame: dict[str, Any] = {
            "type": "send",
            "conversation_id": conversation_id,
            "client_msg_id": client_msg_id,
            "text": text,
        }
        if bot_id:
            frame["bot_id"] = bot_id
        await self.ws.send(json.dumps(frame))
        return client_msg_id

    async def frame(self, **fields: Any) -> None:
        """Send any client frame, given as keyword fields."""
        await self.ws.send(json.dumps(fields))

    async def next_frame(self, timeout: float = 120.0) -> Frame:
        frame: Frame = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        return frame

    async def until(self, *types: str, timeout: float = 120.0) -> tuple[Frame, list[Frame]]:
        """The first frame of one of `types`, and every frame received before it."""
        seen: list[Frame] = []
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.next_frame(timeout)
                if frame["type"] in types:
                    return frame, seen
                seen.append(frame)

    async def turn(self, text: str, **kwargs: Any) -> tuple[Frame, Frame, list[Frame]]:
        """Send and wait for the outcome: (accepted, final message or error, deltas)."""
        await self.send(text, **kwargs)
        accepted, _ = await self.until("accepted", "error")
        final, before = await self.until("message", "error")
        return accepted, final, [f for f in before if f["type"] == "delta"]


class _Connect:
    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.url = url
        self.headers = headers

    async def __aenter__(self) -> ChatClient:
        self._cm = connect(self.url, max_size=2**22, additional_headers=self.headers)
        return ChatClient(await self._cm.__aenter__())

    async def __aexit__(self, *exc: object) -> None:
        await self._cm.__aexit__(*exc)  # type: ignore[arg-type]
