"""A follower woken by NOTIFY waits its coalescing time, then reads what arrived meanwhile."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

import psycopg
from eventsourcing.persistence import Notification

from commands import accounts
from commands.bus import CommandBus
from confab import bootstrap
from confab.settings import Settings
from tests.integration.waiting import eventually
from workers.follower import LogFollower


class BatchRecorder(LogFollower):
    """Remembers which events each read handed it, starting at the end of the log."""

    def __init__(self, bus: CommandBus, conninfo: str, coalesce_s: float) -> None:
        self.name = f"coalescing-test-{uuid.uuid4().hex[:8]}"
        super().__init__(bus, conninfo)
        self.coalesce_s = coalesce_s
        self.batches: list[set[str]] = []

    async def load_position(self, conn: psycopg.AsyncConnection) -> int:
        return await self.bus.run(self.bus.store.recorder.max_notification_id) or 0

    async def handle(self, batch: Sequence[Notification], conn: psycopg.AsyncConnection) -> None:
        self.batches.append({str(n.originator_id) for n in batch})


async def batches_holding(settings: Settings, coalesce_s: float, appends: int) -> int:
    """How many reads it took the follower to see `appends` quick appends, one transaction
    (one NOTIFY) each."""
    bootstrap.ensure_database(settings)
    bus = bootstrap.build_bus(settings)
    follower = BatchRecorder(bus, settings.conninfo(), coalesce_s)
    task = asyncio.create_task(follower.run())
    try:

        async def listening() -> bool:
            return follower.position > 0  # loaded after its LISTEN

        await eventually(listening)

        def append() -> set[str]:
            return {
                str(
                    accounts.register(
                        bus.store, f"{uuid.uuid4().hex}@example.com", "pw 12345678", "c"
                    ).id
                )
                for _ in range(appends)
            }

        ids = await asyncio.to_thread(append)

        async def all_seen() -> bool:
            return set().union(*follower.batches) >= ids

        await eventually(all_seen)
        return sum(1 for batch in follower.batches if batch & ids)
    finally:
        follower.stopping.set()
        await asyncio.gather(task, return_exceptions=True)
        bus.close()


async def test_appends_within_the_coalescing_time_are_read_at_once(settings: Settings) -> None:
    assert await batches_holding(settings, coalesce_s=2.0, appends=10) == 1


async def test_without_coalescing_each_notify_starts_a_read(settings: Settings) -> None:
    assert await batches_holding(settings, coalesce_s=0.0, appends=10) > 1
