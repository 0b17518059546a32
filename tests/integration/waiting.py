"""Waiting for a condition in tests: polled with a deadline, never a bare sleep."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import httpx


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.05)


def wait_healthy(urls: list[str], timeout: float) -> None:
    """Until every URL's /healthz answers 200, all within one deadline (blocking: for start-up,
    before any client runs)."""
    deadline = time.monotonic() + timeout
    for url in urls:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, f"{url} did not become healthy"
            time.sleep(0.3)
