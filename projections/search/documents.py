"""From log events to message documents: one document per message, folded in log order (pure).

A message's document needs facts from earlier events (whose conversation it is, which bot
answered, a rating given before the reply was indexed), so the fold reads and writes a small
context (`conv:`, `bot:`, `resp:`, `fb:` keys) that each adapter stores beside its view and
hands in before a batch: `keys_for` names what a batch will read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from projections.log_events import Event
from projections.search.terms import terms_of


@dataclass(frozen=True)
class MessageDoc:
    """What the search view holds of one message: who, which bot, what, when, how it went."""

    message_id: str
    conversation_id: str
    user_id: str
    bot_id: str
    bot_name: str
    role: str  # "user" or "assistant"
    text: str
    at: datetime
    tokens: int = 0
    latency_ms: float | None = None
    feedback: int | None = None  # +1 / -1 on a response
    version: int = 0  # the log position of the last event that changed it

    @property
    def terms(self) -> list[str]:
        return terms_of(self.text)

    def content(self) -> dict[str, Any]:
        """The document as compared between views (without its version)."""
        return {
            "message_id": self.message_id,
            "conversation_id": self.conversation_id,
            "user_id": self.user_id,
            "bot_id": self.bot_id,
            "bot_name": self.bot_name,
            "role": self.role,
            "text": self.text,
            "at": iso(self.at),
            "tokens": self.tokens,
            "latency_ms": self.latency_ms,
            "feedback": self.feedback,
        }


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass
class Changes:
    """What one batch does to a view, in the order an adapter must apply it."""

    dropped: set[str] = field(default_factory=set)  # conversations whose documents go
    docs: dict[str, MessageDoc] = field(default_factory=dict)  # written whole
    ratings: dict[str, tuple[int, int]] = field(default_factory=dict)  # id -> (rating, version)
    context: dict[str, dict[str, Any]] = field(default_factory=dict)  # keys to store
    position: int = 0


class Context:
    """The fold's memory: loaded values, and the ones this batch changed."""

    def __init__(self, loaded: dict[str, dict[str, Any]]) -> None:
        self.values = dict(loaded)
        self.changed: dict[str, dict[str, Any]] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        return self.values.get(key)

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.values[key] = value
        self.changed[key] = value


def keys_for(events: Iterable[Event]) -> set[str]:
    """The context keys a batch reads first; `bot_keys` then names the bots they point to."""
    keys: set[str] = set()
    for e in events:
        if e.aggregate == "Bot":
            keys.add(f"bot:{e.aggregate_id}")
        if e.aggregate != "Conversation":
            continue
        keys.add(f"conv:{e.aggregate_id}")
        if "response_id" in e.data:
            keys.update((f"resp:{e.data['response_id']}", f"fb:{e.data['response_id']}"))
        if "bot_id" in e.data:
            keys.add(f"bot:{e.data['bot_id']}")
    return keys


def bot_keys(loaded: dict[str, dict[str, Any]]) -> set[str]:
    return {f"bot:{v['bot_id']}" for k, v in loaded.items() if k.startswith("conv:")}


def fold(events: Sequence[Event], ctx: Context) -> Changes:
    """Apply a batch of events, in log order, to the context; return what the view must do."""
    changes = Changes()
    for e in events:
        handler = _HANDLERS.get((e.aggregate, e.name))
        if handler is not None:
            handler(e, ctx, changes)
        changes.position = max(changes.position, e.position)
    changes.context = ctx.changed
    return changes


def _bot_named(e: Event, ctx: Context, _: Changes) -> None:
    ctx.put(f"bot:{e.aggregate_id}", {"name": str(e.data["persona"].get("name", ""))})


def _started(e: Event, ctx: Context, _: Changes) -> None:
    value = {"user_id": e.data["user_id"], "bot_id": e.data["bot_id"], "deleted": False}
    ctx.put(f"conv:{e.aggregate_id}", value)


def _bot_switched(e: Event, ctx: Context, _: Changes) -> None:
    conv = ctx.get(f"conv:{e.aggregate_id}")
    if conv is not None:
        ctx.put(f"conv:{e.aggregate_id}", {**conv, "bot_id": e.data["bot_id"]})


def _open_conversation(e: Event, ctx: Context) -> dict[str, Any] | None:
    conv = ctx.get(f"conv:{e.aggregate_id}")
    return None if conv is None or conv["deleted"] else conv


def _said(e: Event, ctx: Context, changes: Changes, message_id: Any, role: str, at: Any) -> None:
    conv = _open_conversation(e, ctx)
    if conv is None:
        return
    bot = ctx.get(f"bot:{conv['bot_id']}") or {"name": ""}
    doc = MessageDoc(
        message_id=str(message_id),
        conversation_id=e.aggregate_id,
        user_id=conv["user_id"],
        bot_id=conv["bot_id"],
        bot_name=bot["name"],
        role=role,
        text=e.data["text"],
        at=_when(at),
        version=e.position,
    )
    changes.docs[doc.message_id] = doc


def _message_posted(e: Event, ctx: Context, changes: Changes) -> None:
    _said(e, ctx, changes, e.data["message_id"], "user", e.at)


def _turn_recorded(e: Event, ctx: Context, changes: Changes) -> None:
    # An imported turn carries its original time (`at`); a client's history has none.
    _said(e, ctx, changes, e.data["turn_id"], e.data["role"], e.data.get("at") or e.at)


def _response_requested(e: Event, ctx: Context, _: Changes) -> None:
    value = {
        "conversation_id": e.aggregate_id,
        "bot_id": e.data["bot_id"],
        "bot_name": e.data["bot_name"],
    }
    ctx.put(f"resp:{e.data['response_id']}", value)


def _response_completed(e: Event, ctx: Context, changes: Changes) -> None:
    conv = _open_conversation(e, ctx)
    response_id = str(e.data["response_id"])
    asked = ctx.get(f"resp:{response_id}")
    if conv is None or asked is None:
        return
    rating = ctx.get(f"fb:{response_id}")
    changes.docs[response_id] = MessageDoc(
        message_id=response_id,
        conversation_id=e.aggregate_id,
        user_id=conv["user_id"],
        bot_id=asked["bot_id"],
        bot_name=asked["bot_name"],
        role="assistant",
        text=e.data["text"],
        at=_when(e.at),
        tokens=int(e.data.get("completion_tokens", 0)),
        latency_ms=float(e.data["total_ms"]) if e.data.get("total_ms") is not None else None,
        feedback=rating["rating"] if rating else None,
        version=e.position,
    )


def _feedback_given(e: Event, ctx: Context, changes: Changes) -> None:
    if _open_conversation(e, ctx) is None:
        return
    response_id, rating = str(e.data["response_id"]), int(e.data["rating"])
    ctx.put(f"fb:{response_id}", {"rating": rating})
    if response_id in changes.docs:
        doc = changes.docs[response_id]
        changes.docs[response_id] = replace(doc, feedback=rating, version=e.position)
    else:
        changes.ratings[response_id] = (rating, e.position)


def _deleted(e: Event, ctx: Context, changes: Changes) -> None:
    conv = ctx.get(f"conv:{e.aggregate_id}")
    if conv is not None:
        ctx.put(f"conv:{e.aggregate_id}", {**conv, "deleted": True})
    changes.dropped.add(e.aggregate_id)
    for doc_id in [k for k, d in changes.docs.items() if d.conversation_id == e.aggregate_id]:
        del changes.docs[doc_id]
    for response_id in list(changes.ratings):
        asked = ctx.get(f"resp:{response_id}")
        if asked is not None and asked["conversation_id"] == e.aggregate_id:
            del changes.ratings[response_id]


def _when(value: Any) -> datetime:
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(at, datetime):
        raise TypeError(f"not a time: {value!r}")
    return at if at.tzinfo else at.replace(tzinfo=UTC)


_HANDLERS = {
    ("Bot", "Created"): _bot_named,
    ("Bot", "Updated"): _bot_named,
    ("Conversation", "Started"): _started,
    ("Conversation", "BotSwitched"): _bot_switched,
    ("Conversation", "MessagePosted"): _message_posted,
    ("Conversation", "TurnRecorded"): _turn_recorded,
    ("Conversation", "ResponseRequested"): _response_requested,
    ("Conversation", "ResponseCompleted"): _response_completed,
    ("Conversation", "FeedbackGiven"): _feedback_given,
    ("Conversation", "Deleted"): _deleted,
}
