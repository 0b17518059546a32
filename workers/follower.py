"""Following the event store's notification log: one active follower per name, woken by NOTIFY.

A follower holds a PostgreSQL advisory lock while active (a second one waits), reads the log
in batches from its last position, and hands each batch to `handle`, which records the new
position where its output is recorded. Notification ids can have holes (rolled-back inserts),
so a follower tracks the last id it saw and never counts rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Sequence

import psycopg
from eventsourcing.persistence import Notification

from commands.bus import CommandBus
from commands.outages import STORE_UNAVAILABLE

BATCH = 1000
SAFETY_POLL_S = 2.0
RETRY_S = 1.0  # a missed NOTIFY (e.g. a dropped LISTEN connection) costs at most this
RECONNECT_S = 1.0


class LogFollower:
    name = "follower"
    # After a NOTIFY wakes it, a follower waits this long before reading, so that one read
    # covers what is appended meanwhile. Under load each wake-up of a follower (a read, its
    # writes, a position) competes for the CPU with the appends that chat messages wait on;
    # 50 clients on 2 cores: overhead p50 11.9 -> 10.1 ms, p99 27 -> 20 ms (README, "Overhead").
    coalesce_s = 0.0

    def __init__(self, bus: CommandBus, conninfo: str) -> None:
        self.bus = bus
        self.conninfo = conninfo
        self.stopping = asyncio.Event()
        self.position = 0
        self.handled = 0
        self.state = "starting"  # then "waiting" for another follower's lock, then "active"
        self.log = logging.getLogger(f"confab.{self.name}")

    @property
    def lock_key(self) -> int:
        return zlib.crc32(f"confab-follower:{self.name}".encode())

    async def run(self) -> None:
        """Follow until stopped; when PostgreSQL goes away, connect again once it is back
        (the advisory lock went with the connection, so another follower may be active by then)."""
        while not self.stopping.is_set():
            try:
                await self._run_connected()
                return
            except STORE_UNAVAILABLE as exc:
                # Said once per outage; the retries each second are debug lines.
                level = logging.DEBUG if self.state == "reconnecting" else logging.WARNING
                self.state = "reconnecting"
                first_line = (str(exc).strip() or type(exc).__name__).splitlines()[0]
                self.log.log(
                    level, "%s lost the database (%s); connecting again", self.name, first_line
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), RECONNECT_S)

    async def _run_connected(self) -> None:
        connect = psycopg.AsyncConnection.connect
        async with await connect(self.conninfo, autocommit=True) as conn:
            if not await self._wait_for_lock(conn):
                return
            async with await connect(self.conninfo, autocommit=True) as listen:
                # eventsourcing NOTIFYs this channel inside each inserting transaction.
                await listen.execute(f'LISTEN "{self.bus.store.events_table}"')
                self.position = await self.load_position(conn)
                self.log.info("%s active from position %d", self.name, self.position)
                await self._follow(conn, listen)

    async def load_position(self, conn: psycopg.AsyncConnection) -> int:
        raise NotImplementedError

    async def handle(self, batch: Sequence[Notification], conn: psycopg.AsyncConnection) -> None:
        """Process a batch and record `batch[-1].id` as the new position."""
        raise NotImplementedError

    def counted(self, events: int) -> None:
        """A batch was handled: metrics hook."""

    async def _wait_for_lock(self, conn: psycopg.AsyncConnection) -> bool:
        while not self.stopping.is_set():
            cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (self.lock_key,))
            row = await cur.fetchone()
            if row and row[0]:
                self.state = "active"
                return True
            if self.state != "waiting":
                self.log.info("another %s is active; waiting", self.name)
            self.state = "waiting"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), SAFETY_POLL_S)
        return False

    async def _follow(self, conn: psycopg.AsyncConnection, listen: psycopg.AsyncConnection) -> None:
        while not self.stopping.is_set():
            batch = await self.bus.run(
                self.bus.store.recorder.select_notifications, self.position + 1, BATCH
            )
            if batch:
                try:
                    await self.handle(batch, conn)
                except STORE_UNAVAILABLE:
                    raise  # our own connection is gone: `run` connects again
                except Exception:
                    # The batch is retried from the same position: nothing is skipped.
                    self.log.exception("%s could not handle a batch; retrying", self.name)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.stopping.wait(), RETRY_S)
                    continue
                self.position = batch[-1].id
                self.handled += len(batch)
                self.counted(len(batch))
                continue
            await self._wait_for_notify(listen)

    async def _wait_for_notify(self, listen: psycopg.AsyncConnection) -> None:
        # The generator holds the connection's lock until it is closed: never leave it open.
        notifies = listen.notifies(timeout=SAFETY_POLL_S, stop_after=1)
        async with contextlib.aclosing(notifies) as gen:
            async for _ in gen:
                pass
        if self.coalesce_s:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), self.coalesce_s)
