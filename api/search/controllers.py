"""Search over the user's own messages: full text and phrases, filters, highlighted snippets."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.di import Provide
from litestar.params import Parameter

from api.auth import current_user
from domain.errors import InvalidField
from domain.user import User
from projections.search.port import Hit as FoundHit
from projections.search.port import SearchQuery, SearchView

Req = Request[Any, Any, Any]
PAGE = 20


class Hit(msgspec.Struct):
    message_id: str
    conversation_id: str
    role: str
    bot_id: str
    bot_name: str
    created_at: str
    snippet: str  # HTML: the message text escaped, matches wrapped in <mark>


class SearchPage(msgspec.Struct):
    query: str
    total: int
    page: int
    hits: list[Hit]


def hits_of(found: list[FoundHit]) -> list[Hit]:
    return [
        Hit(
            message_id=h.message_id,
            conversation_id=h.conversation_id,
            role=h.role,
            bot_id=h.bot_id,
            bot_name=h.bot_name,
            created_at=h.at.isoformat(),
            snippet=h.snippet,
        )
        for h in found
    ]


async def run_search(request: Req, query: SearchQuery) -> tuple[list[Hit], int]:
    view: SearchView = request.app.state.search
    page = await view.search(query)
    return hits_of(page.hits), page.total


class SearchController(Controller):
    path = "/api/search"
    tags = ["search"]  # noqa: RUF012
    dependencies = {"user": Provide(current_user)}  # noqa: RUF012

    @get("/")
    async def search(
        self,
        request: Req,
        user: User,
        q: Annotated[str, Parameter(min_length=1, max_length=500)],
        bot: str | None = None,
        role: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        page: Annotated[int, Parameter(ge=1, le=500)] = 1,
    ) -> SearchPage:
        if role not in (None, "user", "assistant"):
            raise InvalidField("role", "role is user or assistant.")
        hits, total = await run_search(
            request,
            SearchQuery(
                user_id=str(user.id),
                text=q,
                bot_id=bot,
                role=role,
                since=since,
                until=until,
                limit=PAGE,
                offset=(page - 1) * PAGE,
            ),
        )
        return SearchPage(query=q, total=total, page=page, hits=hits)
