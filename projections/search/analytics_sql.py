"""Analytics over the PostgreSQL search view: the same numbers the OpenSearch adapter gives."""

from __future__ import annotations

import asyncio
from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from projections.search.port import Analytics, AnalyticsQuery, BotVolume, Day

TOTALS = """
SELECT count(*) AS messages, count(DISTINCT user_id) AS active_users,
       coalesce(sum(tokens), 0) AS tokens,
       count(*) FILTER (WHERE feedback = 1) AS up, count(*) FILTER (WHERE feedback = -1) AS down,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95
FROM search_messages WHERE (%(since)s::timestamptz IS NULL OR created_at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR created_at < %(until)s)"""

DAYS = """
SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*) AS messages,
       count(DISTINCT user_id) AS active_users
FROM search_messages WHERE (%(since)s::timestamptz IS NULL OR created_at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR created_at < %(until)s)
GROUP BY 1 ORDER BY 1"""

BOTS = """
SELECT bot_id, (array_agg(bot_name ORDER BY created_at DESC, message_id))[1] AS bot_name,
       count(*) AS messages
FROM search_messages WHERE (%(since)s::timestamptz IS NULL OR created_at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR created_at < %(until)s)
GROUP BY bot_id ORDER BY messages DESC, bot_id LIMIT 100"""

TERMS = """
SELECT term, count(*) AS n FROM search_messages, unnest(terms) AS term
WHERE (%(since)s::timestamptz IS NULL OR created_at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR created_at < %(until)s)
GROUP BY term ORDER BY n DESC, term LIMIT %(top)s"""


async def _rows(
    pool: AsyncConnectionPool, query: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        return list(await cur.fetchall())


async def analytics(pool: AsyncConnectionPool, query: AnalyticsQuery) -> Analytics:
    """The four aggregations run at once, each on a connection of its own."""
    params = {"since": query.since, "until": query.until, "top": query.top_terms}
    found = await asyncio.gather(*(_rows(pool, q, params) for q in (TOTALS, DAYS, BOTS, TERMS)))
    (totals,), days, bots, terms = found
    return Analytics(
        messages=totals["messages"],
        active_users=totals["active_users"],
        days=[Day(r["day"], r["messages"], r["active_users"]) for r in days],
        bots=[BotVolume(r["bot_id"], r["bot_name"], r["messages"]) for r in bots],
        latency_p50_ms=totals["p50"],
        latency_p95_ms=totals["p95"],
        tokens=int(totals["tokens"]),
        feedback_up=totals["up"],
        feedback_down=totals["down"],
        top_terms=[(r["term"], r["n"]) for r in terms],
    )
