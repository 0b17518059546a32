"""What an unreachable store looks like: the exceptions that mean "PostgreSQL is down (or
restarting), try again" rather than "this request is wrong" or "we have a bug"."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import psycopg
from eventsourcing import persistence

STORE_UNAVAILABLE: tuple[type[Exception], ...] = (
    psycopg.OperationalError,  # refused, terminated, pool timeouts (PoolTimeout is one)
    psycopg.InterfaceError,
    persistence.OperationalError,  # the event store's wrappings of the same
    persistence.InterfaceError,
)

PROBE_EVERY_S = 1.0
PROBE_TIMEOUT_S = 2

UNAVAILABLE_MESSAGE = (
    "The database is unavailable right now, so nothing was saved. Try again in a moment."
)


class StoreUnavailable(psycopg.OperationalError):
    """Refused at once: the store was found unreachable moments ago and is still down."""


class Outage:
    """A circuit breaker for the store. Once a call found PostgreSQL unreachable (after the
    event store's own retries, which take seconds), the next calls fail at once with
    StoreUnavailable instead of each waiting that long; a cheap connect, at most once per
    `probe_every_s`, finds out when it is back and lets calls through again."""

    def __init__(self, probe: Callable[[], None], probe_every_s: float = PROBE_EVERY_S) -> None:
        self.probe = probe  # connects and disconnects; raises while PostgreSQL is down
        self.probe_every_s = probe_every_s
        self.down = False
        self.probed_at = 0.0

    def trip(self) -> None:
        if not self.down:
            self.down, self.probed_at = True, time.monotonic()

    async def check(self) -> None:
        """Return if calls may go to the store; raise StoreUnavailable if it is still down."""
        if not self.down:
            return
        if time.monotonic() - self.probed_at < self.probe_every_s:
            raise StoreUnavailable(UNAVAILABLE_MESSAGE)
        self.probed_at = time.monotonic()
        try:
            await asyncio.to_thread(self.probe)
        except STORE_UNAVAILABLE as exc:
            raise StoreUnavailable(UNAVAILABLE_MESSAGE) from exc
        self.down = False


def connect_probe(conninfo: str) -> Callable[[], None]:
    """Connects and runs `SELECT 1`; raises (one of STORE_UNAVAILABLE) while PostgreSQL is down."""

    def probe() -> None:
        with psycopg.connect(conninfo, connect_timeout=PROBE_TIMEOUT_S) as conn:
            conn.execute("SELECT 1")

    return probe
