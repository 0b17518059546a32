"""Runs the synchronous event store off the event loop, in one bounded thread pool."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from commands import chat, handlers
from commands.app import ConfabStore
from commands.messages import Accepted, CompleteResponse, FailResponse
from commands.outages import STORE_UNAVAILABLE, Outage
from commands.routing import BotChoice, Embedder

T = TypeVar("T")


class CommandBus:
    """The async face of the application service: `await bus.call(handler, *args)`."""

    def __init__(
        self,
        store: ConfabStore,
        threads: int,
        embedder: Embedder | None = None,
        outage: Outage | None = None,
        prompt_turns: int | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.prompt_turns = prompt_turns  # post_message also returns the prompt it asks for
        self.outage = outage  # while PostgreSQL is down, calls fail at once
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="store")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self.outage is not None:
            await self.outage.check()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, functools.partial(fn, *args))
        except STORE_UNAVAILABLE:
            if self.outage is not None:
                self.outage.trip()
            raise

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a handler or query `fn(store, *args)` on the store's threads."""
        return await self.run(fn, self.store, *args)

    query = call

    async def post_message(
        self, cmd: chat.PostMessage, candidates: Callable[[], Sequence[BotChoice]] | None = None
    ) -> Accepted:
        """Appends the message; `candidates` (the bots the user may mention, from a read model)
        are gathered on the same store thread, and only when the message needs them."""

        def post() -> Accepted:
            return chat.post_message(self.store, cmd, self.embedder, self.prompt_turns, candidates)

        return await self.run(post)

    async def complete_response(self, cmd: CompleteResponse) -> None:
        await self.call(handlers.complete_response, cmd)

    async def fail_response(self, cmd: FailResponse) -> None:
        await self.call(handlers.fail_response, cmd)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.store.close()
