"""What each background process tells its probes and Prometheus (ops/health.py serves it)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import psycopg
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from prometheus_client import generate_latest

from commands.bus import CommandBus
from commands.outages import connect_probe
from commands.wire import Subjects
from confab.settings import Settings
from ops.health import Check, HealthServer
from workers import metrics
from workers.follower import LogFollower

log = logging.getLogger("confab.health")
SAMPLE_EVERY_S = 5.0


@contextlib.asynccontextmanager
async def health_server(settings: Settings, checks: dict[str, Check]) -> AsyncIterator[None]:
    """Serves /healthz, /readyz and /metrics on CONFAB_HEALTH_PORT while the block runs."""
    if settings.health_port <= 0:
        yield
        return
    server = HealthServer(settings.api_host, settings.health_port, checks, generate_latest)
    await server.start()
    try:
        yield
    finally:
        await server.close()


def database_check(settings: Settings) -> Check:
    ping = connect_probe(settings.conninfo())

    async def check() -> str | None:
        try:
            await asyncio.to_thread(ping)
        except psycopg.Error as exc:
            return f"PostgreSQL: {str(exc).strip().splitlines()[0]}"
        return None

    return check


def nats_check(nc: NATS) -> Check:
    async def check() -> str | None:
        return None if nc.is_connected else "NATS: not connected"

    return check


def follower_check(follower: LogFollower) -> Check:
    """Ready when active, or standing by for the active one's lock."""

    async def check() -> str | None:
        if follower.state in ("active", "waiting"):
            return None
        return f"{follower.name} is {follower.state}"

    return check


async def sample_lag(
    bus: CommandBus, followers: dict[str, LogFollower], set_lag: Callable[[str, int], None]
) -> None:
    """Every few seconds: how far each active follower is behind the log's head."""
    while True:
        try:
            head = await bus.run(bus.store.recorder.max_notification_id) or 0
            for name, follower in followers.items():
                if follower.state == "active":
                    set_lag(name, max(0, head - follower.position))
        except Exception:
            log.debug("sampling the log's head failed", exc_info=True)
        await asyncio.sleep(SAMPLE_EVERY_S)


async def sample_queue(js: JetStreamContext, subjects: Subjects) -> None:
    """Every few seconds: requests waiting in JetStream for any worker."""
    while True:
        with contextlib.suppress(Exception):
            info = await js.consumer_info(subjects.stream, subjects.inference_durable)
            metrics.QUEUE_PENDING.set(info.num_pending or 0)
        await asyncio.sleep(SAMPLE_EVERY_S)


def relay_lag(_: str, lag: int) -> None:
    metrics.RELAY_LAG.set(lag)


def projector_lag(name: str, lag: int) -> None:
    metrics.PROJECTOR_LAG.labels(name).set(lag)


@contextlib.asynccontextmanager
async def running(*coroutines: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Background samplers for as long as the block runs."""
    tasks = [asyncio.create_task(c) for c in coroutines]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
