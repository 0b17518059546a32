"""The search view at scale, on each adapter: replay rate, search and analytics latency.

    .venv/bin/python -m bench.search [--messages 250000] [--queries 300]

Writes `--messages` messages of chat history (conversations of five turns, 90 days, 2,000
users) into a database of its own, then for PostgreSQL FTS and for OpenSearch (osmem-server,
in memory):

- raw write: the engine's own rate for the same documents (COPY, 1,000 rows a transaction,
  into a plain table with the same GIN index; a plain `_bulk` into a plain index), measured
  in this run;
- replay: `confab replay search` (read the log, fold, write with positions, switch), as
  events/s and messages/s, and its ratio to the raw write rate;
- search: p50/p95 of `--queries` searches of one user's history (words, a phrase, filters);
- analytics: p50/p95 of the whole dashboard's numbers over everything and over 7 days.

Writes bench/results/search.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import time
from dataclasses import asdict, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
from opensearchpy.helpers import async_bulk
from osmem_server import OsmemServer
from psycopg import sql

from bench.search_data import DAYS, START, WORDS, write_history
from confab import bootstrap
from confab.settings import Settings, load_settings
from projections.search import opensearch, postgres
from projections.search.documents import MessageDoc
from projections.search.port import AnalyticsQuery, SearchQuery, SearchView
from workers.replay import LogReader, replay_search

RESULTS = Path(__file__).parent / "results"
RAW_DOCS = 50_000
COPY = (
    "COPY search_messages (message_id, conversation_id, user_id, bot_id, bot_name, role, text,"
    " created_at, tokens, latency_ms, feedback, terms, version) FROM STDIN"
)


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {"cpu": cpu, "cores": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2)}


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)  # noqa: E731
    return {"p50_ms": pick(0.5), "p95_ms": pick(0.95), "n": len(ordered)}


def fresh_database(settings: Settings) -> None:
    with psycopg.connect(settings.conninfo("postgres"), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(settings.db_name)
            )
        )
    bootstrap.ensure_database(settings)


def sample_docs(view_docs: list[MessageDoc], count: int) -> list[MessageDoc]:
    return (view_docs * (count // max(1, len(view_docs)) + 1))[:count]


async def raw_pg_rate(conninfo: str, docs: list[MessageDoc]) -> float:
    """The same documents COPYed into a plain copy of the search table (GIN index and all)."""
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        await conn.execute("DROP SCHEMA IF EXISTS bench_raw CASCADE")
        await conn.execute("CREATE SCHEMA bench_raw")
        await conn.execute("SET search_path = bench_raw")
        for statement in postgres.SCHEMA:
            await conn.execute(statement)
        docs = [replace(d, message_id=_uuid(i)) for i, d in enumerate(docs)]  # new messages
        started = time.perf_counter()
        for start in range(0, len(docs), 1000):
            async with conn.transaction(), conn.cursor() as cur, cur.copy(COPY) as copy:
                for doc in docs[start : start + 1000]:
                    row = postgres.row_of(doc)
                    await copy.write_row((*row[:11], doc.terms, row[12]))
        elapsed = time.perf_counter() - started
        await conn.execute("DROP SCHEMA bench_raw CASCADE")
    return len(docs) / elapsed


async def raw_os_rate(view: opensearch.OpenSearchSearch, docs: list[MessageDoc]) -> float:
    index = f"{view.alias}-raw"
    await view.client.indices.create(index=index, body=opensearch.INDEX_BODY)
    actions = [
        {"_index": index, "_id": str(_uuid(i)), "_source": opensearch.source_of(d)}
        for i, d in enumerate(docs)
    ]
    started = time.perf_counter()
    await async_bulk(view.client, actions, chunk_size=1000, max_chunk_bytes=50 << 20)
    elapsed = time.perf_counter() - started
    await view.client.indices.delete(index=index)
    return len(actions) / elapsed


def _uuid(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def queries(users: list[str], bots: list[str], phrases: list[str], n: int) -> list[SearchQuery]:
    rng = random.Random(11)
    found = []
    for i in range(n):
        user, kind = rng.choice(users), i % 5
        word = rng.choice(WORDS[:60])
        if kind == 0:
            found.append(SearchQuery(user, word))
        elif kind == 1:
            found.append(SearchQuery(user, f"{word} {rng.choice(WORDS[:120])}"))
        elif kind == 2:
            found.append(SearchQuery(user, f'"{rng.choice(phrases)}"'))
        elif kind == 3:
            found.append(SearchQuery(user, word, bot_id=rng.choice(bots), role="assistant"))
        else:
            since = START + timedelta(days=rng.randint(0, DAYS - 14))
            found.append(SearchQuery(user, word, since=since, until=since + timedelta(days=14)))
    return found


async def timed(coro_fn: Any, items: list[Any]) -> list[float]:
    samples = []
    for item in items:
        started = time.perf_counter()
        await coro_fn(item)
        samples.append(time.perf_counter() - started)
    return samples


async def measure(view: SearchView, reader: LogReader, args: argparse.Namespace) -> dict[str, Any]:
    print(f"\n== {view.engine} ==")
    outcome = await replay_search(view, reader)
    docs = await view.documents()
    raw = await (
        raw_pg_rate(reader_conninfo(view), sample_docs(docs, RAW_DOCS))
        if isinstance(view, postgres.PostgresSearch)
        else raw_os_rate(view, sample_docs(docs, RAW_DOCS))  # type: ignore[arg-type]
    )
    users = sorted({d.user_id for d in docs})
    bots = sorted({d.bot_id for d in docs})
    phrases = [" ".join(d.text.rstrip(".").split()[:2]) for d in docs[:: max(1, len(docs) // 500)]]
    searches = queries(users, bots, phrases, args.queries)
    hits = [0]

    async def one(q: SearchQuery) -> None:
        hits[0] += (await view.search(q)).total

    search = percentiles(await timed(one, searches))
    end = START + timedelta(days=DAYS)
    whole = percentiles(await timed(view.analytics, [AnalyticsQuery()] * args.analytics))
    week = AnalyticsQuery(since=end - timedelta(days=7), until=end)
    last_week = percentiles(await timed(view.analytics, [week] * args.analytics))
    messages_per_s = len(docs) / outcome.seconds
    result = {
        "documents": len(docs),
        "replay_events": outcome.events,
        "replay_events_per_s": round(outcome.rate),
        "replay_messages_per_s": round(messages_per_s),
        "raw_write_docs_per_s": round(raw),
        "replay_vs_raw_write": round(messages_per_s / raw, 3),
        "search": search,
        "mean_hits_per_search": round(hits[0] / len(searches), 1),
        "analytics_all": whole,
        "analytics_7_days": last_week,
        "analytics_sample": asdict(await view.analytics(AnalyticsQuery(top_terms=5)))["top_terms"],
    }
    print(json.dumps(result, indent=2))
    return result


def save(report: dict[str, Any]) -> None:
    """Each engine's figures with the machine's load when they were taken; an engine not run
    this time keeps its earlier figures."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "search.json"
    earlier = json.loads(path.read_text()) if path.exists() else {}
    for engine in ("postgres", "opensearch_osmem"):
        if engine in report:
            report[engine]["machine"] = report["machine"]
        elif engine in earlier:
            report[engine] = earlier[engine]
    path.write_text(json.dumps(report, indent=2) + "\n")


def reader_conninfo(view: SearchView) -> str:
    assert isinstance(view, postgres.PostgresSearch)
    return str(view.pool.conninfo)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=250_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--analytics", type=int, default=20)
    parser.add_argument("--engines", default="postgres,opensearch", help="comma-separated")
    args = parser.parse_args()
    engines = args.engines.split(",")
    settings = load_settings(db_name="confab_bench_search", bus_prefix="confabbench")
    fresh_database(settings)
    store = bootstrap.build_store(settings, threads=2)
    events, seconds = await asyncio.to_thread(write_history, store, args.messages)
    print(f"history: {events} events in {seconds:.1f}s ({events / seconds:,.0f} events/s)")
    reader = LogReader(store)
    report: dict[str, Any] = {
        "machine": machine(),
        "messages": args.messages,
        "history_events": events,
        "history_write_events_per_s": round(events / seconds),
    }
    if "postgres" in engines:
        pg = postgres.PostgresSearch(settings.conninfo(), size=4)
        await pg.open()
        report["postgres"] = await measure(pg, reader, args)
        await pg.close()
    if "opensearch" in engines:
        with OsmemServer.start(japanese=False) as server:
            alias, conninfo = settings.search_alias, settings.conninfo()
            os_view = opensearch.OpenSearchSearch(server.url, alias, conninfo)
            await os_view.open()
            report["opensearch_osmem"] = await measure(os_view, reader, args)
            await os_view.close()
    store.close()
    report["machine"]["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    save(report)
    print(f"wrote {RESULTS / 'search.json'}")


if __name__ == "__main__":
    asyncio.run(main())
