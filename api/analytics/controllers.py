"""Analytics over everyone's messages, for admins: the numbers behind the dashboard, as JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.params import Parameter

from api.auth import admin_guard
from domain.errors import InvalidField
from projections.search.port import AnalyticsQuery, SearchView

Req = Request[Any, Any, Any]


class DayRow(msgspec.Struct):
    day: str
    messages: int
    active_users: int


class BotRow(msgspec.Struct):
    bot_id: str
    bot_name: str
    messages: int


class TermRow(msgspec.Struct):
    term: str
    messages: int


class AnalyticsReport(msgspec.Struct):
    search_engine: str
    messages: int
    active_users: int
    tokens: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    feedback_up: int
    feedback_down: int
    feedback_ratio: float | None
    days: list[DayRow]
    bots: list[BotRow]
    top_terms: list[TermRow]


class AnalyticsController(Controller):
    path = "/api/admin/analytics"
    tags = ["admin"]  # noqa: RUF012
    guards = [admin_guard]  # noqa: RUF012

    @get("/")
    async def analytics(
        self,
        request: Req,
        since: datetime | None = None,
        until: datetime | None = None,
        terms: Annotated[int, Parameter(ge=1, le=100)] = 20,
    ) -> AnalyticsReport:
        if since and until and since >= until:
            raise InvalidField("until", "until is after since.")
        view: SearchView = request.app.state.search
        found = await view.analytics(AnalyticsQuery(since=since, until=until, top_terms=terms))
        return AnalyticsReport(
            search_engine=view.engine,
            messages=found.messages,
            active_users=found.active_users,
            tokens=found.tokens,
            latency_p50_ms=found.latency_p50_ms,
            latency_p95_ms=found.latency_p95_ms,
            feedback_up=found.feedback_up,
            feedback_down=found.feedback_down,
            feedback_ratio=found.feedback_ratio,
            days=[DayRow(d.day, d.messages, d.active_users) for d in found.days],
            bots=[BotRow(b.bot_id, b.bot_name, b.messages) for b in found.bots],
            top_terms=[TermRow(term, n) for term, n in found.top_terms],
        )
