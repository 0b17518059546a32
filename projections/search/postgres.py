"""The PostgreSQL search adapter: full-text search in the database that holds the log.

A target is a schema holding `search_messages` (English tsvector, GIN index), the fold's
`search_context` and `search_position`; the live one is `public`. Each batch, its context
and its position are written in one transaction (exactly once). A rebuild fills a schema of
its own; `switch` catches it up under the live projector's lock and swaps the tables.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from projections.log_events import Event
from projections.search import analytics_sql
from projections.search.digest import summarize
from projections.search.documents import Context, MessageDoc, bot_keys, fold, keys_for
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

LIVE = "public"
LIVE_LOCK = 0x7365617263  # taken by every live batch and by `switch`: one writer at a time
TABLES = ("search_messages", "search_context", "search_position")

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS search_messages (
        message_id uuid PRIMARY KEY, conversation_id uuid NOT NULL, user_id text NOT NULL,
        bot_id text NOT NULL, bot_name text NOT NULL, role text NOT NULL, text text NOT NULL,
        created_at timestamptz NOT NULL, tokens integer NOT NULL DEFAULT 0,
        latency_ms double precision, feedback smallint, terms text[] NOT NULL,
        version bigint NOT NULL,
        tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED)""",
    "CREATE INDEX IF NOT EXISTS search_messages_tsv ON search_messages USING gin (tsv)",
    "CREATE INDEX IF NOT EXISTS search_messages_user_time ON search_messages (user_id, created_at)",
    "CREATE INDEX IF NOT EXISTS search_messages_time ON search_messages (created_at)",
    "CREATE INDEX IF NOT EXISTS search_messages_conversation ON search_messages (conversation_id)",
    "CREATE TABLE IF NOT EXISTS search_context (key text PRIMARY KEY, value jsonb NOT NULL)",
    """CREATE TABLE IF NOT EXISTS search_position (
        one boolean PRIMARY KEY DEFAULT true CHECK (one), position bigint NOT NULL)""",
    "INSERT INTO search_position (position) VALUES (0) ON CONFLICT DO NOTHING",
]
# A rebuild fills its tables first and builds these once at the end: much faster than
# keeping a GIN index up to date row by row.
DEFERRED = [s for s in SCHEMA if "USING gin" in s or "(user_id, created_at)" in s]
DEFERRED += [s for s in SCHEMA if "search_messages_time " in s]


def create_tables(conn: psycopg.Connection[Any], schema: str = LIVE) -> None:
    """The live view's tables (an older shape without versions is dropped: it is rebuilt)."""
    old = conn.execute(
        "SELECT 1 FROM information_schema.tables t WHERE table_schema = %s"
        " AND table_name = 'search_messages' AND NOT EXISTS (SELECT 1 FROM"
        " information_schema.columns c WHERE c.table_schema = t.table_schema"
        " AND c.table_name = t.table_name AND c.column_name = 'version')",
        (schema,),
    ).fetchone()
    if old:
        conn.execute(sql.SQL("DROP TABLE {}.search_messages").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
    for statement in SCHEMA:
        conn.execute(statement)
    conn.execute("RESET search_path")


# One statement a batch: each column as an array (terms as space-separated words).
UPSERT = """
INSERT INTO search_messages (message_id, conversation_id, user_id, bot_id, bot_name, role, text,
    created_at, tokens, latency_ms, feedback, terms, version)
SELECT m, c, u, b, bn, r, t, at, tk, l, f, string_to_array(tm, ' '), v
FROM unnest(%s::uuid[], %s::uuid[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
    %s::timestamptz[], %s::int[], %s::float8[], %s::int[], %s::text[], %s::bigint[])
    AS d(m, c, u, b, bn, r, t, at, tk, l, f, tm, v)
ON CONFLICT (message_id) DO UPDATE SET bot_id = EXCLUDED.bot_id, bot_name = EXCLUDED.bot_name,
    role = EXCLUDED.role, text = EXCLUDED.text, created_at = EXCLUDED.created_at,
    tokens = EXCLUDED.tokens, latency_ms = EXCLUDED.latency_ms, feedback = EXCLUDED.feedback,
    terms = EXCLUDED.terms, version = EXCLUDED.version
"""

SEARCH_SQL = """
SELECT message_id, conversation_id, bot_id, bot_name, role, created_at,
       ts_headline('english', text, q, %(headline)s) AS snippet,
       count(*) OVER () AS total
FROM search_messages, websearch_to_tsquery('english', %(text)s) AS q
WHERE user_id = %(user_id)s AND tsv @@ q
  AND (%(bot_id)s::text IS NULL OR bot_id = %(bot_id)s)
  AND (%(role)s::text IS NULL OR role = %(role)s)
  AND (%(since)s::timestamptz IS NULL OR created_at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR created_at < %(until)s)
ORDER BY created_at DESC, message_id
LIMIT %(limit)s OFFSET %(offset)s
"""
HEADLINE = f"StartSel={MARK_START},StopSel={MARK_END},MaxFragments=2,MaxWords=24,MinWords=8"


def row_of(doc: MessageDoc) -> tuple[Any, ...]:
    return (
        doc.message_id,
        doc.conversation_id,
        doc.user_id,
        doc.bot_id,
        doc.bot_name,
        doc.role,
        doc.text,
        doc.at,
        doc.tokens,
        doc.latency_ms,
        doc.feedback,
        " ".join(doc.terms),
        doc.version,
    )


def columns(docs: list[MessageDoc]) -> list[list[Any]]:
    """The documents as one list per column, for UPSERT."""
    return [list(column) for column in zip(*(row_of(d) for d in docs), strict=True)]


async def _set_path(conn: psycopg.AsyncConnection[Any], schema: str) -> None:
    await conn.execute(sql.SQL("SET LOCAL search_path = {}, public").format(sql.Identifier(schema)))


async def _position(conn: psycopg.AsyncConnection[Any]) -> int:
    row = await (await conn.execute("SELECT position FROM search_position")).fetchone()
    return int(row[0]) if row else 0


async def _load(conn: psycopg.AsyncConnection[Any], keys: set[str]) -> dict[str, dict[str, Any]]:
    if not keys:
        return {}
    cur = await conn.execute(
        "SELECT key, value FROM search_context WHERE key = ANY(%s)", (list(keys),)
    )
    return {key: value for key, value in await cur.fetchall()}


async def apply_in(conn: psycopg.AsyncConnection[Any], events: Sequence[Event]) -> int:
    """Apply a batch to the view the connection's search_path points at, in its transaction."""
    position = await _position(conn)
    events = [e for e in events if e.position > position]  # already applied: skipped
    if not events:
        return position
    loaded = await _load(conn, keys_for(events))
    loaded.update(await _load(conn, bot_keys(loaded) - loaded.keys()))
    changes = fold(events, Context(loaded))
    async with conn.cursor() as cur:
        if changes.dropped:
            await cur.execute(
                "DELETE FROM search_messages WHERE conversation_id = ANY(%s::uuid[])",
                (list(changes.dropped),),
            )
        if changes.docs:
            await cur.execute(UPSERT, columns(list(changes.docs.values())))
        await cur.executemany(
            "UPDATE search_messages SET feedback = %s, version = %s WHERE message_id = %s",
            [(rating, version, mid) for mid, (rating, version) in changes.ratings.items()],
        )
        await cur.executemany(
            "INSERT INTO search_context (key, value) VALUES (%s, %s)"
            " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [(k, json.dumps(v)) for k, v in changes.context.items()],
        )
        await cur.execute("UPDATE search_position SET position = %s", (changes.position,))
    return changes.position


def _doc(r: dict[str, Any]) -> MessageDoc:
    return MessageDoc(
        message_id=str(r["message_id"]),
        conversation_id=str(r["conversation_id"]),
        user_id=r["user_id"],
        bot_id=r["bot_id"],
        bot_name=r["bot_name"],
        role=r["role"],
        text=r["text"],
        at=r["created_at"],
        tokens=r["tokens"],
        latency_ms=r["latency_ms"],
        feedback=r["feedback"],
        version=r["version"],
    )


async def _documents(conn: psycopg.AsyncConnection[Any]) -> list[MessageDoc]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT message_id, conversation_id, user_id, bot_id, bot_name, role, text,"
            " created_at, tokens, latency_ms, feedback, version FROM search_messages"
        )
        return [_doc(r) for r in await cur.fetchall()]


async def _catch_up(conn: psycopg.AsyncConnection[Any], live: int, read_events: ReadEvents) -> int:
    """Apply the log up to the live position to the view on the connection's search_path."""
    position = await _position(conn)
    while position < live and (batch := await read_events(position, live)):
        position = await apply_in(conn, batch)
    return position


class PostgresSearch:
    engine = "postgres"

    def __init__(self, conninfo: str, size: int = 4) -> None:
        self.pool = checked_pool(conninfo, size)

    async def open(self) -> None:
        await self.pool.open()

    async def close(self) -> None:
        await self.pool.close()

    async def position(self) -> int:
        return await self.target_position(LIVE)

    async def target_position(self, target: str) -> int:
        async with self.pool.connection() as conn, conn.transaction():
            await _set_path(conn, target)
            return await _position(conn)

    async def apply(self, events: Sequence[Event], target: str | None = None) -> int:
        async with self.pool.connection() as conn, conn.transaction():
            if target is None:
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (LIVE_LOCK,))
            await _set_path(conn, target or LIVE)
            return await apply_in(conn, events)

    async def search(self, query: SearchQuery) -> SearchPage:
        if not query.text.strip():
            return SearchPage(0, [])
        params = {**query.__dict__, "headline": HEADLINE}
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(SEARCH_SQL, params)
            rows = await cur.fetchall()
        hits = [
            Hit(
                message_id=str(r["message_id"]),
                conversation_id=str(r["conversation_id"]),
                bot_id=r["bot_id"],
                bot_name=r["bot_name"],
                role=r["role"],
                at=r["created_at"],
                snippet=safe_snippet(r["snippet"]),
            )
            for r in rows
        ]
        return SearchPage(int(rows[0]["total"]) if rows else 0, hits)

    async def analytics(self, query: AnalyticsQuery) -> Analytics:
        return await analytics_sql.analytics(self.pool, query)

    async def documents(self, target: str | None = None) -> list[MessageDoc]:
        async with self.pool.connection() as conn, conn.transaction():
            await _set_path(conn, target or LIVE)
            return await _documents(conn)

    async def compare(
        self, target: str, read_events: ReadEvents
    ) -> tuple[ViewSummary, ViewSummary]:
        await self._build_indexes(target)
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (LIVE_LOCK,))
            await _set_path(conn, LIVE)
            live, live_docs = await _position(conn), await _documents(conn)
            await _set_path(conn, target)
            caught_up = await _catch_up(conn, live, read_events)
            return summarize(live_docs, live), summarize(await _documents(conn), caught_up)

    async def create_target(self) -> str:
        target = f"replay_search_{time.time_ns()}"
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(target)))
            await _set_path(conn, target)
            for statement in SCHEMA:
                if statement not in DEFERRED:
                    await conn.execute(statement)
        return target

    async def _build_indexes(self, target: str) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await _set_path(conn, target)
            for statement in DEFERRED:
                await conn.execute(statement)

    async def switch(self, target: str, read_events: ReadEvents) -> int:
        retired = f"retired_{target}"
        await self._build_indexes(target)
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (LIVE_LOCK,))
            await _set_path(conn, LIVE)
            live = await _position(conn)
            await _set_path(conn, target)
            caught_up = await _catch_up(conn, live, read_events)
            await conn.execute(
                "UPDATE search_position SET position = greatest(position, %s)", (live,)
            )
            await conn.execute("SET LOCAL search_path = public")
            await conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(retired)))
            for table in TABLES:
                name = sql.Identifier(table)
                await conn.execute(
                    sql.SQL("ALTER TABLE public.{} SET SCHEMA {}").format(
                        name, sql.Identifier(retired)
                    )
                )
                await conn.execute(
                    sql.SQL("ALTER TABLE {}.{} SET SCHEMA public").format(
                        sql.Identifier(target), name
                    )
                )
            for schema in (retired, target):
                await conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
            return max(live, caught_up)

    async def drop_target(self, target: str) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(target))
            )
