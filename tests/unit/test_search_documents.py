"""Folding log events into message documents (pure): what each document says, and when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from projections.search.documents import Context, bot_keys, fold, keys_for
from projections.search.terms import terms_of
from tests.integration.search_log import T0, Log


def test_a_reply_carries_the_bot_that_answered_its_tokens_latency_and_rating() -> None:
    log = Log()
    bot = log.bot("Helper")
    conv = log.conversation("u1", bot)
    message = log.post(conv, "u1", "Hello there")
    reply = log.reply(conv, bot, "Helper as asked", "Hi!", latency_ms=250.0, tokens=7)
    log.rate(conv, reply, 1)

    changes = fold(log.events, Context({}))

    assert changes.docs[message].role == "user" and changes.docs[message].bot_name == "Helper"
    assert changes.docs[message].at == T0 + timedelta(seconds=2)  # the third event
    doc = changes.docs[reply]
    assert (doc.role, doc.bot_name, doc.tokens, doc.latency_ms, doc.feedback) == (
        "assistant",
        "Helper as asked",
        7,
        250.0,
        1,
    )
    assert doc.version == log.events[-1].position and changes.ratings == {}
    assert changes.position == len(log.events)


def test_a_rating_of_an_earlier_reply_is_a_rating_change_and_a_later_reply_keeps_it() -> None:
    log = Log()
    bot = log.bot("Helper")
    conv = log.conversation("u1", bot)
    reply = log.reply(conv, bot, "Helper", "Hi!")
    first = fold(log.events, Context({}))
    later = Log(events=list(log.events), clock=log.clock)
    later.rate(conv, reply, -1)

    changes = fold(later.events[len(log.events) :], Context(first.context))

    assert reply not in changes.docs
    assert changes.ratings == {reply: (-1, len(later.events))}
    assert changes.context[f"fb:{reply}"] == {"rating": -1}


def test_a_deleted_conversation_drops_its_documents_and_indexes_nothing_after() -> None:
    log = Log()
    bot = log.bot("Helper")
    conv = log.conversation("u1", bot)
    log.post(conv, "u1", "Soon gone")
    log.delete(conv)
    log.reply(conv, bot, "Helper", "A late reply")  # a reply that finished after the delete

    changes = fold(log.events, Context({}))

    assert changes.docs == {} and changes.dropped == {conv}


def test_an_imported_turn_keeps_its_original_time_and_follows_the_bot_switch() -> None:
    log = Log()
    first, second = log.bot("First"), log.bot("Second")
    conv = log.conversation("u1", first)
    log.switch_bot(conv, second)
    then = datetime(2023, 5, 6, 7, 8, 9, tzinfo=UTC)
    imported = log.record(conv, "assistant", "From long ago", then)
    recorded = log.record(conv, "user", "From a client", None)

    docs = fold(log.events, Context({})).docs

    assert docs[imported].at == then and docs[imported].role == "assistant"
    assert docs[imported].bot_name == "Second"
    assert docs[recorded].at == log.events[-1].at


def test_a_batch_names_the_context_it_reads() -> None:
    log = Log()
    bot = log.bot("Helper")
    conv = log.conversation("u1", bot)
    reply = log.reply(conv, bot, "Helper", "Hi!")

    keys = keys_for(log.events)

    assert {f"bot:{bot}", f"conv:{conv}", f"resp:{reply}", f"fb:{reply}"} <= keys
    assert bot_keys({f"conv:{conv}": {"bot_id": "b2"}}) == {"bot:b2"}


def test_top_terms_are_distinct_lower_case_words_without_stop_words() -> None:
    assert terms_of("The Lisbon trip, the LISBON weather: it's 20°C; don't") == [
        "lisbon",
        "trip",
        "weather",
    ]
