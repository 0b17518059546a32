"""One contract for every search adapter: PostgreSQL full-text search and OpenSearch (osmem).

The same events go into each view; the tests check result sets, order by time, snippets,
aggregations, replays and rebuilds, never relevance scores.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import sql

from confab.settings import Settings
from projections.search import opensearch, postgres
from projections.search.digest import summarize
from projections.search.port import AnalyticsQuery, SearchQuery, SearchView
from tests.integration.search_log import T0, Log

ALICE, BOB = "alice-id", "bob-id"


def view_database(settings: Settings) -> str:
    """A database of its own: each test starts from empty search tables."""
    name = f"{settings.db_name}_view"
    with psycopg.connect(settings.conninfo("postgres"), autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    conninfo = settings.conninfo(name)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for table in ("search_messages", "search_context", "search_position"):
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
        postgres.create_tables(conn)
        opensearch.create_tables(conn)
    return conninfo


@pytest.fixture(params=["postgres", "opensearch"])
async def view(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[SearchView]:
    conninfo = view_database(settings)
    adapter: SearchView
    if request.param == "postgres":
        adapter = postgres.PostgresSearch(conninfo, size=2)
    else:
        clone = request.getfixturevalue("osmem_clone")
        adapter = opensearch.OpenSearchSearch(clone.url, f"t{uuid.uuid4().hex[:8]}", conninfo, 2)
    await adapter.open()
    yield adapter
    await adapter.close()


def chat_log() -> tuple[Log, dict[str, str]]:
    """Two users, two bots, three days; ids of what the tests look for."""
    log = Log()
    helper, coder = log.bot("Helper"), log.bot("Coder")
    ids: dict[str, str] = {"helper": helper, "coder": coder}
    conv = log.conversation(ALICE, helper)
    ids["trip"] = log.post(conv, ALICE, "Planning a trip to Lisbon <b>in spring</b> if 1 < 2")
    ids["trip_reply"] = log.reply(conv, helper, "Helper", "Lisbon is lovely in spring.", 100, 12)
    log.at(T0 + timedelta(days=1))
    other = log.conversation(ALICE, coder)
    ids["code"] = log.post(other, ALICE, "Write a Python function for Lisbon weather")
    ids["code_reply"] = log.reply(other, coder, "Coder", "def weather(): return 'sunny'", 300, 30)
    log.rate(other, ids["code_reply"], -1)
    log.rate(conv, ids["trip_reply"], 1)
    log.at(T0 + timedelta(days=2))
    bobs = log.conversation(BOB, helper)
    ids["bob"] = log.post(bobs, BOB, "My own trip to Lisbon")
    ids["bob_reply"] = log.reply(bobs, helper, "Helper", "Enjoy Lisbon weather.", 200, 20)
    ids["conv"], ids["other"], ids["bobs"] = conv, other, bobs
    return log, ids


async def test_words_and_phrases_are_found_with_escaped_marked_snippets(view: SearchView) -> None:
    log, ids = chat_log()
    await view.apply(log.events)

    words = await view.search(SearchQuery(ALICE, "lisbon trip"))
    phrase = await view.search(SearchQuery(ALICE, '"trip to Lisbon"'))
    wrong_order = await view.search(SearchQuery(ALICE, '"Lisbon trip"'))
    excluded = await view.search(SearchQuery(ALICE, "lisbon -spring"))

    assert [h.message_id for h in words.hits] == [ids["trip"]]
    assert "<mark>Lisbon</mark>" in words.hits[0].snippet
    assert words.hits[0].snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    assert [h.message_id for h in phrase.hits] == [ids["trip"]] and wrong_order.total == 0
    assert [h.message_id for h in excluded.hits] == [ids["code"]]


async def test_a_user_never_sees_another_users_hits(view: SearchView) -> None:
    log, ids = chat_log()
    await view.apply(log.events)

    alices = await view.search(SearchQuery(ALICE, "lisbon", limit=50))
    bobs = await view.search(SearchQuery(BOB, "lisbon", limit=50))
    nobody = await view.search(SearchQuery("carol-id", "lisbon"))

    assert {h.conversation_id for h in alices.hits} == {ids["conv"], ids["other"]}
    assert {h.conversation_id for h in bobs.hits} == {ids["bobs"]}
    assert nobody.total == 0 and nobody.hits == []


async def test_filters_order_by_time_and_pages(view: SearchView) -> None:
    log, ids = chat_log()
    await view.apply(log.events)
    lisbon = SearchQuery(ALICE, "lisbon", limit=2)

    newest_first = await view.search(SearchQuery(ALICE, "lisbon"))
    page1 = await view.search(lisbon)
    page2 = await view.search(SearchQuery(ALICE, "lisbon", limit=2, offset=2))
    by_bot = await view.search(SearchQuery(ALICE, "lisbon", bot_id=ids["coder"]))
    replies = await view.search(SearchQuery(ALICE, "lisbon", role="assistant"))
    first_day = await view.search(
        SearchQuery(ALICE, "lisbon", since=T0, until=T0 + timedelta(days=1))
    )

    expected = [ids["code"], ids["trip_reply"], ids["trip"]]
    assert [h.message_id for h in newest_first.hits] == expected
    assert newest_first.total == 3 and page1.total == 3
    assert [h.message_id for h in page1.hits + page2.hits] == expected
    assert [h.message_id for h in by_bot.hits] == [ids["code"]]
    assert by_bot.hits[0].bot_name == "Coder"
    assert [h.message_id for h in replies.hits] == [ids["trip_reply"]]
    assert [h.message_id for h in first_day.hits] == [ids["trip_reply"], ids["trip"]]


async def test_analytics_give_the_same_numbers_on_every_adapter(view: SearchView) -> None:
    log, ids = chat_log()
    await view.apply(log.events)

    stats = await view.analytics(AnalyticsQuery(top_terms=3))
    later = await view.analytics(AnalyticsQuery(since=T0 + timedelta(days=1)))

    assert stats.messages == 6 and stats.active_users == 2
    assert [(d.day, d.messages, d.active_users) for d in stats.days] == [
        ("2026-11-20", 2, 1),
        ("2026-11-21", 2, 1),
        ("2026-11-22", 2, 1),
    ]
    assert [(b.bot_id, b.bot_name, b.messages) for b in stats.bots] == [
        (ids["helper"], "Helper", 4),
        (ids["coder"], "Coder", 2),
    ]
    assert stats.tokens == 62
    assert (stats.feedback_up, stats.feedback_down, stats.feedback_ratio) == (1, 1, 0.5)
    assert stats.latency_p50_ms == pytest.approx(200.0)
    # Percentiles are each engine's estimate: between the two samples around the exact rank.
    assert stats.latency_p95_ms is not None and 290.0 <= stats.latency_p95_ms <= 300.0
    assert stats.top_terms == [("lisbon", 5), ("weather", 3), ("spring", 2)]
    assert later.messages == 4 and later.active_users == 2 and later.tokens == 50


async def test_feedback_deletion_bot_switches_and_imported_times_shape_the_documents(
    view: SearchView,
) -> None:
    log, ids = chat_log()
    await view.apply(log.events)
    later = Log(clock=log.clock)
    later.events = list(log.events)
    later.rate(ids["bobs"], ids["bob_reply"], 1)  # a rating for a reply indexed earlier
    later.delete(ids["other"])
    later.switch_bot(ids["conv"], ids["coder"])
    then = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    imported = later.record(ids["conv"], "user", "An imported Lisbon memory", then)
    recorded = later.record(ids["conv"], "assistant", "A recorded Lisbon answer", None)
    await view.apply(later.events[len(log.events) :])

    docs = {d.message_id: d for d in await view.documents()}
    hits = await view.search(SearchQuery(ALICE, "lisbon", limit=50))

    assert docs[ids["bob_reply"]].feedback == 1
    assert ids["code"] not in docs and ids["code_reply"] not in docs
    assert docs[imported].at == then and docs[imported].bot_name == "Coder"
    assert docs[recorded].role == "assistant" and docs[recorded].at > then
    assert hits.hits[-1].message_id == imported
    assert ids["code"] not in {h.message_id for h in hits.hits}


async def test_a_batch_applied_twice_changes_nothing(view: SearchView) -> None:
    log, _ = chat_log()
    position = await view.apply(log.events)
    before = summarize(await view.documents(), position)

    again = await view.apply(log.events)  # the log re-read from an older position
    replay = await view.create_target()
    await view.apply(log.events, replay)
    await view.apply(log.events[3:], replay)  # a crash after the writes, before the position

    assert again == position == len(log.events)
    assert summarize(await view.documents(), again) == before
    assert summarize(await view.documents(replay), position) == before
    await view.drop_target(replay)


async def test_a_rebuilt_view_equals_the_live_one_and_goes_live_atomically(
    view: SearchView,
) -> None:
    log, _ = chat_log()
    half = len(log.events) // 2
    await view.apply(log.events[:half])
    target = await view.create_target()
    await view.apply(log.events[:3], target)  # the rebuild is behind the live view
    await view.apply(log.events[half:])  # the live projection keeps going

    live_before = summarize(await view.documents(), await view.position())
    went_live_at = await view.switch(target, log.read)
    after = summarize(await view.documents(), await view.position())

    assert went_live_at == len(log.events) == await view.position()
    assert after == live_before and after.documents == 6
    assert (await view.search(SearchQuery(BOB, "lisbon"))).total == 2
    await view.apply(log.events)  # the live projection after the switch: nothing twice
    assert summarize(await view.documents(), await view.position()) == after
