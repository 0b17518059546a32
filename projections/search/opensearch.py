"""The OpenSearch adapter (opensearch-py's async client): an index per version behind an alias.

Writes are idempotent and position-versioned: every document is indexed with
`version_type=external` and the log position of the event that last changed it, so a batch
replayed after a crash is refused as a conflict and nothing is written twice. The fold's
context and each index's position live in PostgreSQL and are committed after the bulk
request, under the same advisory lock `switch` takes.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import psycopg
from opensearchpy import AsyncOpenSearch
from opensearchpy.helpers import async_bulk

from projections.log_events import Event
from projections.search import analytics_os
from projections.search.digest import summarize
from projections.search.documents import Changes, Context, MessageDoc, bot_keys, fold, keys_for
from projections.search.pool import checked_pool
from projections.search.port import (
    MARK_END,
    MARK_START,
    Analytics,
    AnalyticsQuery,
    Hit,
    ReadEvents,
    SearchPage,
    SearchQuery,
    ViewSummary,
    safe_snippet,
)

LIVE_LOCK = 0x6F73736561  # every live batch and `switch`
SETUP_LOCK = 0x6F73736574  # creating the first index
PAGE = 5000
CONFLICT = 409

TABLES = [
    """CREATE TABLE IF NOT EXISTS opensearch_indexes (
        index text PRIMARY KEY, alias text NOT NULL, position bigint NOT NULL DEFAULT 0,
        live boolean NOT NULL DEFAULT false)""",
    """CREATE TABLE IF NOT EXISTS opensearch_context (
        index text NOT NULL, key text NOT NULL, value jsonb NOT NULL, PRIMARY KEY (index, key))""",
]

KEYWORD = {"type": "keyword"}
INDEX_BODY = {
    "settings": {"analysis": {"analyzer": {"default": {"type": "english"}}}},
    "mappings": {
        "dynamic": "strict",
        "properties": {
            "message_id": KEYWORD,
            "conversation_id": KEYWORD,
            "user_id": KEYWORD,
            "bot_id": KEYWORD,
            "bot_name": KEYWORD,
            "role": KEYWORD,
            "text": {"type": "text", "analyzer": "english"},
            "at": {"type": "date"},
            "tokens": {"type": "integer"},
            "latency_ms": {"type": "double"},
            "feedback": {"type": "integer"},
            "terms": KEYWORD,
        },
    },
}
HIGHLIGHT = {
    "pre_tags": [MARK_START],
    "post_tags": [MARK_END],
    "fields": {"text": {"number_of_fragments": 2, "fragment_size": 160, "no_match_size": 160}},
}


def create_tables(conn: psycopg.Connection[Any]) -> None:
    for statement in TABLES:
        conn.execute(statement)


def source_of(doc: MessageDoc) -> dict[str, Any]:
    return {**doc.content(), "terms": doc.terms}


def doc_of(source: dict[str, Any], version: int) -> MessageDoc:
    fields = {k: v for k, v in source.items() if k != "terms"}
    return MessageDoc(**{**fields, "at": datetime.fromisoformat(fields["at"])}, version=version)


def query_string(text: str) -> str:
    """websearch syntax ("phrase", -not, or) as simple_query_string reads it."""
    return re.sub(r"\s+or\s+", " | ", text, flags=re.IGNORECASE)


def search_body(query: SearchQuery) -> dict[str, Any]:
    filters: list[dict[str, Any]] = [{"term": {"user_id": query.user_id}}]
    if query.bot_id:
        filters.append({"term": {"bot_id": query.bot_id}})
    if query.role:
        filters.append({"term": {"role": query.role}})
    if query.since or query.until:
        filters.append({"range": {"at": time_range(query.since, query.until)}})
    match = {
        "simple_query_string": {
            "query": query_string(query.text),
            "fields": ["text"],
            "default_operator": "and",
        }
    }
    return {
        "query": {"bool": {"must": [match], "filter": filters}},
        "sort": [{"at": "desc"}, {"message_id": "asc"}],
        "from": query.offset,
        "size": query.limit,
        "track_total_hits": True,
        "highlight": HIGHLIGHT,
    }


def time_range(since: datetime | None, until: datetime | None) -> dict[str, str]:
    bounds = {}
    if since:
        bounds["gte"] = since.astimezone(UTC).isoformat()
    if until:
        bounds["lt"] = until.astimezone(UTC).isoformat()
    return bounds


def hit_of(raw: dict[str, Any]) -> Hit:
    source = raw["_source"]
    fragments = raw.get("highlight", {}).get("text") or [source["text"][:160]]
    return Hit(
        message_id=source["message_id"],
        conversation_id=source["conversation_id"],
        bot_id=source["bot_id"],
        bot_name=source["bot_name"],
        role=source["role"],
        at=datetime.fromisoformat(source["at"]),
        snippet=safe_snippet(" … ".join(fragments)),
    )


class OpenSearchSearch:
    engine = "opensearch"

    def __init__(self, url: str, alias: str, conninfo: str, size: int = 4) -> None:
        self.url, self.alias = url, alias
        self.client = AsyncOpenSearch(hosts=[url], timeout=60)
        self.pool = checked_pool(conninfo, size)

    async def open(self) -> None:
        await self.pool.open()
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (SETUP_LOCK,))
            if await self._live(conn) is None:
                index = await self.create_target()
                await self.client.indices.update_aliases(
                    body={"actions": [{"add": {"index": index, "alias": self.alias}}]}
                )
                await conn.execute(
                    "UPDATE opensearch_indexes SET live = true WHERE index = %s", (index,)
                )

    async def close(self) -> None:
        await self.client.close()
        await self.pool.close()

    async def _live(self, conn: psycopg.AsyncConnection[Any]) -> str | None:
        cur = await conn.execute(
            "SELECT index FROM opensearch_indexes WHERE alias = %s AND live", (self.alias,)
        )
        row = await cur.fetchone()
        return str(row[0]) if row else None

    async def _live_index(self, conn: psycopg.AsyncConnection[Any]) -> str:
        index = await self._live(conn)
        if index is None:
            raise LookupError(f"no live index behind {self.alias}")
        return index

    # --- following the log ----------------------------------------------------------------

    async def position(self) -> int:
        async with self.pool.connection() as conn:
            return await self._position(conn, await self._live_index(conn))

    async def target_position(self, target: str) -> int:
        async with self.pool.connection() as conn:
            return await self._position(conn, target)

    async def _position(self, conn: psycopg.AsyncConnection[Any], index: str) -> int:
        cur = await conn.execute(
            "SELECT position FROM opensearch_indexes WHERE index = %s", (index,)
        )
        row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def apply(self, events: Sequence[Event], target: str | None = None) -> int:
        async with self.pool.connection() as conn, conn.transaction():
            if target is None:
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (LIVE_LOCK,))
            return await self._apply_in(conn, target or await self._live_index(conn), events)

    async def _apply_in(
        self, conn: psycopg.AsyncConnection[Any], index: str, events: Sequence[Event]
    ) -> int:
        position = await self._position(conn, index)
        events = [e for e in events if e.position > position]
        if not events:
            return position
        loaded = await self._load(conn, index, keys_for(events))
        loaded.update(await self._load(conn, index, bot_keys(loaded) - loaded.keys()))
        changes = fold(events, Context(loaded))
        await self._write(index, changes)
        async with conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO opensearch_context (index, key, value) VALUES (%s, %s, %s)"
                " ON CONFLICT (index, key) DO UPDATE SET value = EXCLUDED.value",
                [(index, k, json.dumps(v)) for k, v in changes.context.items()],
            )
            await cur.execute(
                "UPDATE opensearch_indexes SET position = %s WHERE index = %s",
                (changes.position, index),
            )
        return changes.position

    async def _load(
        self, conn: psycopg.AsyncConnection[Any], index: str, keys: set[str]
    ) -> dict[str, dict[str, Any]]:
        if not keys:
            return {}
        cur = await conn.execute(
            "SELECT key, value FROM opensearch_context WHERE index = %s AND key = ANY(%s)",
            (index, list(keys)),
        )
        return {key: value for key, value in await cur.fetchall()}

    async def _write(self, index: str, changes: Changes) -> None:
        if changes.dropped:
            # delete_by_query sees what is searchable: make the latest writes so first.
            await self.client.indices.refresh(index=index)
            await self.client.delete_by_query(
                index=index,
                body={"query": {"terms": {"conversation_id": sorted(changes.dropped)}}},
                refresh=True,
                conflicts="proceed",
            )
        docs = list(changes.docs.values()) + await self._rated(index, changes.ratings)
        if not docs:
            return
        actions = [
            {
                "_op_type": "index",
                "_index": index,
                "_id": doc.message_id,
                "version": doc.version,
                "version_type": "external",
                "_source": source_of(doc),
            }
            for doc in docs
        ]
        _, errors = await async_bulk(
            self.client, actions, raise_on_error=False, chunk_size=1000, max_chunk_bytes=50 << 20
        )
        # 409: this version or a later one is already there (a batch replayed after a crash).
        real = [e for e in errors if _status(e) != CONFLICT] if isinstance(errors, list) else []
        if real:
            raise RuntimeError(f"OpenSearch refused {len(real)} documents: {real[:3]}")

    async def _rated(self, index: str, ratings: dict[str, tuple[int, int]]) -> list[MessageDoc]:
        if not ratings:
            return []
        found = await self.client.mget(index=index, body={"ids": list(ratings)})
        rated = []
        for raw in found["docs"]:
            if raw.get("found"):
                rating, version = ratings[raw["_id"]]
                doc = doc_of(raw["_source"], version)
                rated.append(replace(doc, feedback=rating))
        return rated

    # --- queries --------------------------------------------------------------------------

    async def search(self, query: SearchQuery) -> SearchPage:
        if not query.text.strip():
            return SearchPage(0, [])
        found = await self.client.search(index=self.alias, body=search_body(query))
        hits = found["hits"]
        return SearchPage(int(hits["total"]["value"]), [hit_of(h) for h in hits["hits"]])

    async def analytics(self, query: AnalyticsQuery) -> Analytics:
        found = await self.client.search(index=self.alias, body=analytics_os.body(query))
        return analytics_os.read(found)

    async def documents(self, target: str | None = None) -> list[MessageDoc]:
        index = target or self.alias
        await self.client.indices.refresh(index=index)
        docs: list[MessageDoc] = []
        after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {
                "query": {"match_all": {}},
                "sort": [{"message_id": "asc"}],
                "size": PAGE,
                "version": True,
            }
            if after is not None:
                body["search_after"] = after
            page = (await self.client.search(index=index, body=body))["hits"]["hits"]
            docs += [doc_of(h["_source"], int(h.get("_version", 0))) for h in page]
            if len(page) < PAGE:
                return docs
            after = page[-1]["sort"]

    # --- rebuilding -----------------------------------------------------------------------

    async def create_target(self) -> str:
        index = f"{self.alias}-{time.time_ns()}"
        await self.client.indices.create(index=index, body=INDEX_BODY)
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO opensearch_indexes (index, alias) VALUES (%s, %s)", (index, self.alias)
            )
        return index

    async def switch(self, target: str, read_events: ReadEvents) -> int:
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (LIVE_LOCK,))
            old = await self._live_index(conn)
            live = await self._position(conn, old)
            caught_up = await self._catch_up(conn, target, live, read_events)
            await conn.execute(
                "UPDATE opensearch_indexes SET live = (index = %s),"
                " position = CASE WHEN index = %s THEN greatest(position, %s) ELSE position END"
                " WHERE alias = %s",
                (target, target, live, self.alias),
            )
            await self.client.indices.update_aliases(
                body={
                    "actions": [
                        {"remove": {"index": old, "alias": self.alias}},
                        {"add": {"index": target, "alias": self.alias}},
                    ]
                }
            )
        await self.drop_target(old)
        return max(live, caught_up)

    async def _catch_up(
        self, conn: psycopg.AsyncConnection[Any], index: str, live: int, read_events: ReadEvents
    ) -> int:
        position = await self._position(conn, index)
        while position < live and (batch := await read_events(position, live)):
            position = await self._apply_in(conn, index, batch)
        return position

    async def compare(
        self, target: str, read_events: ReadEvents
    ) -> tuple[ViewSummary, ViewSummary]:
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (LIVE_LOCK,))
            index = await self._live_index(conn)
            live = await self._position(conn, index)
            caught_up = await self._catch_up(conn, target, live, read_events)
            live_docs = await self.documents(index)
            return summarize(live_docs, live), summarize(await self.documents(target), caught_up)

    async def drop_target(self, target: str) -> None:
        await self.client.indices.delete(index=target, ignore_unavailable=True)
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute("DELETE FROM opensearch_context WHERE index = %s", (target,))
            await conn.execute("DELETE FROM opensearch_indexes WHERE index = %s", (target,))


def _status(error: dict[str, Any]) -> int:
    return int(next(iter(error.values())).get("status", 0))
