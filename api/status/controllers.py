"""Operations: how far each projection is behind the log, as JSON and as Prometheus metrics."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, MediaType, Request, get
from prometheus_client import generate_latest

from commands.bus import CommandBus
from projections.lag import Lag, lags
from projections.queries import ReadModels
from projections.search.port import SearchView

Req = Request[Any, Any, Any]


class ProjectionLag(msgspec.Struct):
    name: str
    position: int
    head: int
    lag_events: int
    lag_seconds: float


class Status(msgspec.Struct):
    search_engine: str
    projections: list[ProjectionLag]


async def current_lags(request: Req) -> tuple[str, list[Lag]]:
    bus: CommandBus = request.app.state.bus
    read: ReadModels = request.app.state.read
    view: SearchView = request.app.state.search
    search_position = await view.position()

    def measure() -> list[Lag]:
        with read.pool.connection() as conn:
            return lags(conn, search_position)

    return view.engine, await bus.run(measure)


METRICS = [
    ("confab_projection_lag_events", "Stored events not applied yet.", lambda x: x.events),
    (
        "confab_projection_lag_seconds",
        "Age of the oldest event not applied yet.",
        lambda x: f"{x.seconds:.3f}",
    ),
    ("confab_projection_position", "The last log position applied.", lambda x: x.position),
]


class StatusController(Controller):
    tags = ["operations"]  # noqa: RUF012

    @get("/api/status")
    async def status(self, request: Req) -> Status:
        engine, found = await current_lags(request)
        return Status(
            search_engine=engine,
            projections=[
                ProjectionLag(lag.name, lag.position, lag.head, lag.events, round(lag.seconds, 3))
                for lag in found
            ],
        )

    @get("/metrics", media_type=MediaType.TEXT)
    async def metrics(self, request: Req) -> str:
        _, found = await current_lags(request)
        lines = []
        for metric, help_text, value in METRICS:
            lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} gauge"]
            lines += [f'{metric}{{projection="{x.name}"}} {value(x)}' for x in found]
        # and the process's own: HTTP requests, websocket accepts and errors (prometheus_client)
        return "\n".join(lines) + "\n" + generate_latest().decode()
