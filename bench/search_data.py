"""Chat history for the search benchmark, written fast: many conversations per save.

Conversations of five turns each, spread over 90 days (the events' clock is simulated),
between a few thousand users and the built-in bots; one reply in ten is rated.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from eventsourcing import domain as es_domain

from commands.app import ConfabStore
from commands.bots import BUILTIN_BOTS, builtin_bot_id
from domain.conversation import Completion, Conversation, ResponseSettings

TURNS = 5  # a user message and its reply, five times a conversation
PER_SAVE = 100  # conversations a save: ~1,700 events a transaction
DAYS = 90
START = datetime(2026, 8, 1, tzinfo=UTC)

_WORD_TEXT = """
lisbon paris tokyo berlin recipe pasta curry bread garden tomato python rust golang docker
kubernetes database postgres index query vector search engine latency throughput memory
cache thread process socket server client browser layout button color theme font poem story
dragon castle knight wizard forest river mountain ocean whale dolphin penguin narwhal tiger
budget invoice salary mortgage pension taxes travel flight hotel museum concert guitar piano
violin jazz opera movie novel author chapter history empire revolution climate weather storm
rain snow summer winter spring autumn exercise running cycling swimming yoga sleep coffee tea
chocolate cheese wine beer bicycle engine battery solar wind energy physics quantum galaxy
planet rocket telescope biology protein enzyme vaccine doctor hospital fever headache diet
algebra calculus theorem proof matrix graph neural network gradient training dataset label
email meeting agenda deadline project manager feedback review release deploy rollback bug
error exception stack trace logging metric dashboard alert incident outage migration schema
"""
_FILLER_TEXT = "please can you explain how why what the a to of for with about my our this"
WORDS = _WORD_TEXT.split()
FILLER = _FILLER_TEXT.split()
WEIGHTS = [1 / (rank + 1) ** 0.8 for rank in range(len(WORDS))]


class Clock:
    """The events' timestamps: set per conversation, a few seconds per event."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=random.uniform(1, 4))
        return self.now


def sentence(rng: random.Random, words: int) -> str:
    picked = rng.choices(WORDS, WEIGHTS, k=words)
    mixed = [w if rng.random() < 0.7 else f"{rng.choice(FILLER)} {w}" for w in picked]
    return " ".join(mixed).capitalize() + "."


def conversations(users: list[str], count: int, clock: Clock, seed: int) -> Iterator[Conversation]:
    rng = random.Random(seed)
    bots = [(str(builtin_bot_id(slug)), p.name) for slug, p in BUILTIN_BOTS.items()]
    for _ in range(count):
        clock.now = START + timedelta(seconds=rng.uniform(0, DAYS * 86400))
        user = rng.choice(users)
        bot_id, bot_name = rng.choice(bots)
        settings = ResponseSettings(
            bot_id, bot_name, "SmolLM2-135M-Instruct", "You are Confab.", {}
        )
        conv = Conversation(id=uuid.uuid4(), user_id=user, title="bench", bot_id=bot_id)
        for turn in range(TURNS):
            text = sentence(rng, rng.randint(4, 14))
            _, response_id = conv.post_message(user, f"c{turn}", text, {}, settings)
            latency = rng.lognormvariate(6.6, 0.5)  # ~700 ms median
            reply = " ".join(sentence(rng, rng.randint(6, 20)) for _ in range(rng.randint(1, 3)))
            tokens = rng.randint(20, 200)
            done = Completion(reply, "stop", 60, tokens, "SmolLM2", latency / 4, latency)
            conv.complete_response(response_id, done)
            if rng.random() < 0.1:
                conv.give_feedback(response_id, rng.choice((1, 1, -1)), "", user)
        yield conv


def write_history(store: ConfabStore, messages: int, seed: int = 7) -> tuple[int, float]:
    """Write conversations until `messages` messages exist; returns (events, seconds)."""
    clock = Clock()
    original = es_domain.CanCreateTimestamp.create_timestamp
    es_domain.CanCreateTimestamp.create_timestamp = staticmethod(clock)  # type: ignore[method-assign]
    users = [str(uuid.UUID(int=random.Random(seed + i).getrandbits(128))) for i in range(2000)]
    events, started, batch = 0, time.perf_counter(), []
    try:
        for conv in conversations(users, messages // (2 * TURNS), clock, seed):
            batch.append(conv)
            if len(batch) == PER_SAVE:
                events += _save(store, batch)
                batch = []
        events += _save(store, batch)
    finally:
        es_domain.CanCreateTimestamp.create_timestamp = original  # type: ignore[method-assign]
    return events, time.perf_counter() - started


def _save(store: ConfabStore, batch: list[Conversation]) -> int:
    if not batch:
        return 0
    pending = sum(len(c.pending_events) for c in batch)
    store.save(*batch)
    return pending
