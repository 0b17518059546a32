"""The search port: what the API and the workers ask of a search view, whichever engine holds it.

A view lives in a *target* (a PostgreSQL schema, an OpenSearch index). The live target is
the one queries read; a rebuild fills a new target from the log and `switch` makes it live.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from projections.log_events import Event
from projections.search.documents import MessageDoc

ReadEvents = Callable[[int, int], Awaitable[Sequence[Event]]]  # (after, up to) -> events


@dataclass(frozen=True)
class SearchQuery:
    user_id: str
    text: str
    bot_id: str | None = None
    role: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True)
class Hit:
    message_id: str
    conversation_id: str
    bot_id: str
    bot_name: str
    role: str
    at: datetime
    snippet: str  # HTML: the text escaped, matches wrapped in <mark>


@dataclass(frozen=True)
class SearchPage:
    total: int
    hits: list[Hit]


@dataclass(frozen=True)
class AnalyticsQuery:
    since: datetime | None = None
    until: datetime | None = None
    top_terms: int = 20


@dataclass(frozen=True)
class Day:
    day: str  # YYYY-MM-DD (UTC)
    messages: int
    active_users: int


@dataclass(frozen=True)
class BotVolume:
    bot_id: str
    bot_name: str
    messages: int


@dataclass(frozen=True)
class Analytics:
    messages: int
    active_users: int
    days: list[Day]
    bots: list[BotVolume]
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    tokens: int
    feedback_up: int
    feedback_down: int
    top_terms: list[tuple[str, int]] = field(default_factory=list)

    @property
    def feedback_ratio(self) -> float | None:
        rated = self.feedback_up + self.feedback_down
        return self.feedback_up / rated if rated else None


@dataclass(frozen=True)
class ViewSummary:
    """What `replay --check` compares: the number of documents and a digest of their content."""

    documents: int
    digest: str
    position: int


class SearchView(Protocol):
    """One search engine's view of every message. Adapters: postgres, opensearch."""

    engine: str

    async def open(self) -> None: ...
    async def close(self) -> None: ...

    # --- following the log ----------------------------------------------------------------
    async def position(self) -> int:
        """The live view's tracking position."""
        ...

    async def apply(self, events: Sequence[Event], target: str | None = None) -> int:
        """Index a batch (exactly once, with its position); None is the live target."""
        ...

    # --- queries --------------------------------------------------------------------------
    async def search(self, query: SearchQuery) -> SearchPage: ...
    async def analytics(self, query: AnalyticsQuery) -> Analytics: ...
    async def documents(self, target: str | None = None) -> list[MessageDoc]: ...

    # --- rebuilding -----------------------------------------------------------------------
    async def create_target(self) -> str:
        """A new, empty target to replay the log into."""
        ...

    async def target_position(self, target: str) -> int: ...

    async def switch(self, target: str, read_events: ReadEvents) -> int:
        """Catch the target up with the live view and make it live, atomically; returns the
        position it went live at. The old target is dropped."""
        ...

    async def compare(
        self, target: str, read_events: ReadEvents
    ) -> tuple[ViewSummary, ViewSummary]:
        """The live view's summary and the target's, caught up to the same position."""
        ...

    async def drop_target(self, target: str) -> None: ...


# Matches are marked with private-use characters, then the text is HTML-escaped and the
# marks become <mark>: the engines' highlighters would pass a message's own HTML through.
MARK_START, MARK_END = "\ue000", "\ue001"


def safe_snippet(marked: str) -> str:
    return (
        html.escape(marked.replace("\n", " "))
        .replace(MARK_START, "<mark>")
        .replace(MARK_END, "</mark>")
    )
