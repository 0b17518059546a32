"""Routing: which bot answers a message.

Order: an explicit @mention or `/bot NAME` > the conversation's bot > the user's default bot >
(when the user turned auto-routing on) the bot whose description is closest to the message by
sentence embeddings > the general assistant.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from commands.parsing import ParsedMessage
from domain.errors import BotNotFound


class Embedder(Protocol):
    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


@dataclass(frozen=True)
class BotChoice:
    bot_id: str
    name: str
    description: str


@dataclass(frozen=True)
class Route:
    bot_id: str
    reason: str  # mention | conversation | default | auto | fallback


def handle_of(name: str) -> str:
    """'Terse Coder' is mentioned as @terse-coder (or @tersecoder, or one of its words)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def find_by_mention(mention: str, bots: Sequence[BotChoice]) -> BotChoice | None:
    mention = mention.lower()
    for matches in (
        lambda b: handle_of(b.name) == mention,
        lambda b: handle_of(b.name).replace("-", "") == mention.replace("-", ""),
        lambda b: handle_of(b.name).split("-")[0] == mention,
        lambda b: mention in handle_of(b.name).split("-"),
    ):
        found = [b for b in bots if matches(b)]
        if len(found) == 1:
            return found[0]
    return None


def route(
    parsed: ParsedMessage,
    bots: Callable[[], Sequence[BotChoice]],
    usable: Callable[[str], bool],
    conversation_bot: str | None,
    default_bot: str | None,
    fallback_bot: str,
    auto_route: bool = False,
    embedder: Embedder | None = None,
) -> Route:
    """`bots()` lists the bots the user may use; it is called at most once, and only for a
    mention or for auto-routing (most messages need neither). `usable(bot_id)` says whether
    the user may use one bot."""
    listed = functools.cache(bots)
    for mention in parsed.mentions:
        chosen = find_by_mention(mention, listed())
        if chosen:
            return Route(chosen.bot_id, "mention")
        if parsed.command == "bot":
            raise BotNotFound(f"No bot called {mention!r} that you can use.")
    if conversation_bot and usable(conversation_bot):
        return Route(conversation_bot, "conversation")
    if default_bot and usable(default_bot):
        return Route(default_bot, "default")
    if auto_route and embedder is not None and parsed.text.strip() and listed():
        return Route(closest_bot(parsed.text, listed(), embedder).bot_id, "auto")
    return Route(fallback_bot, "fallback")


def closest_bot(text: str, bots: Sequence[BotChoice], embedder: Embedder) -> BotChoice:
    vectors = embedder.embed([text, *(f"{b.name}: {b.description}" for b in bots)])
    query, candidates = vectors[0], vectors[1:]
    scores = [cosine(query, candidate) for candidate in candidates]
    return bots[max(range(len(bots)), key=scores.__getitem__)]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0
