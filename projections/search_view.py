"""The message search view in PostgreSQL: one row per message, full-text indexed.

Maintained by the read-model projector in the same transaction as its position (exactly once).
tsvector (English) with a GIN index; queries use websearch_to_tsquery and ts_headline.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from projections.log_events import Cursor, Event, Handler, as_of

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS search_messages (
        message_id uuid PRIMARY KEY, conversation_id uuid NOT NULL, user_id text NOT NULL,
        bot_id text NOT NULL, bot_name text NOT NULL, role text NOT NULL, text text NOT NULL,
        created_at timestamptz NOT NULL, tokens integer NOT NULL DEFAULT 0,
        latency_ms double precision, feedback smallint,
        tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED)""",
    "CREATE INDEX IF NOT EXISTS search_messages_tsv ON search_messages USING gin (tsv)",
    "CREATE INDEX IF NOT EXISTS search_messages_user_time ON search_messages (user_id, created_at)",
]

_INSERT = (
    "INSERT INTO search_messages (message_id, conversation_id, user_id, bot_id, bot_name, role,"
    " text, created_at, tokens, latency_ms) SELECT %s, c.conversation_id, c.user_id, %s, %s,"
    " %s, %s, %s, %s, %s FROM rm_conversations c WHERE c.conversation_id = %s"
    " ON CONFLICT (message_id) DO NOTHING"
)


def _bot_of_conversation(cur: Cursor, conversation_id: str) -> tuple[str, str]:
    cur.execute(
        "SELECT c.bot_id, coalesce(b.persona->>'name', '') FROM rm_conversations c"
        " LEFT JOIN rm_bots b ON b.bot_id::text = c.bot_id WHERE c.conversation_id = %s",
        (conversation_id,),
    )
    row = cur.fetchone()
    return (row[0], row[1]) if row else ("", "")


def _index(cur: Cursor, e: Event, doc_id: object, role: str, bot: tuple[str, str]) -> None:
    tokens = e.data.get("completion_tokens", 0)
    latency = e.data.get("total_ms")
    cur.execute(
        _INSERT,
        (str(doc_id), *bot, role, e.data["text"], e.at, tokens, latency, e.aggregate_id),
    )


def message_posted(cur: Cursor, e: Event) -> None:
    _index(cur, e, e.data["message_id"], "user", _bot_of_conversation(cur, e.aggregate_id))


def turn_recorded(cur: Cursor, e: Event) -> None:
    e = as_of(e, "at")  # an imported turn is found at the time it was written
    _index(cur, e, e.data["turn_id"], e.data["role"], _bot_of_conversation(cur, e.aggregate_id))


def response_completed(cur: Cursor, e: Event) -> None:
    cur.execute(
        "SELECT bot_id, bot_name FROM rm_responses WHERE response_id = %s",
        (str(e.data["response_id"]),),
    )
    row = cur.fetchone()
    _index(cur, e, e.data["response_id"], "assistant", (row[0], row[1]) if row else ("", ""))


def feedback_given(cur: Cursor, e: Event) -> None:
    cur.execute(
        "UPDATE search_messages SET feedback = %s WHERE message_id = %s",
        (e.data["rating"], str(e.data["response_id"])),
    )


def conversation_deleted(cur: Cursor, e: Event) -> None:
    cur.execute("DELETE FROM search_messages WHERE conversation_id = %s", (e.aggregate_id,))


HANDLERS: dict[tuple[str, str], Handler] = {
    ("Conversation", "MessagePosted"): message_posted,
    ("Conversation", "TurnRecorded"): turn_recorded,
    ("Conversation", "ResponseCompleted"): response_completed,
    ("Conversation", "FeedbackGiven"): feedback_given,
    ("Conversation", "Deleted"): conversation_deleted,
}


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
# Matches are marked with private-use characters, then the snippet is HTML-escaped and the
# marks become <mark>: ts_headline itself would pass a message's own HTML through.
MARK_START, MARK_END = "\ue000", "\ue001"
HEADLINE = f"StartSel={MARK_START},StopSel={MARK_END},MaxFragments=2,MaxWords=24,MinWords=8"


def safe_snippet(headline: str) -> str:
    return (
        html.escape(headline.replace("\n", " "))
        .replace(MARK_START, "<mark>")
        .replace(MARK_END, "</mark>")
    )


def search_params(query: SearchQuery) -> dict[str, Any]:
    return {
        "text": query.text,
        "user_id": query.user_id,
        "bot_id": query.bot_id,
        "role": query.role,
        "since": query.since,
        "until": query.until,
        "limit": query.limit,
        "offset": query.offset,
        "headline": HEADLINE,
    }
