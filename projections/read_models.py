"""PostgreSQL read models: users, bots, each user's bot overrides, each user's conversations.

Every write is an upsert keyed by event-derived ids; projections.tables applies them in batches
with the tracking position in the same transaction.
"""

from __future__ import annotations

import json
from typing import Any

from projections.log_events import Cursor, Event, Handler, as_of

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS rm_users (
        user_id uuid PRIMARY KEY, email text NOT NULL UNIQUE, display_name text NOT NULL,
        role text NOT NULL, avatar text NOT NULL DEFAULT '', preferences jsonb NOT NULL,
        default_bot_id uuid, registered_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS rm_bots (
        bot_id uuid PRIMARY KEY, owner_id text NOT NULL, persona jsonb NOT NULL,
        model text NOT NULL, visibility text NOT NULL, builtin boolean NOT NULL,
        archived boolean NOT NULL DEFAULT false, created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS rm_bot_overrides (
        user_id uuid NOT NULL, bot_id uuid NOT NULL, overrides jsonb NOT NULL,
        PRIMARY KEY (user_id, bot_id))""",
    """CREATE TABLE IF NOT EXISTS rm_conversations (
        conversation_id uuid PRIMARY KEY, user_id text NOT NULL, title text NOT NULL,
        bot_id text NOT NULL, started_at timestamptz NOT NULL,
        last_activity timestamptz NOT NULL, message_count integer NOT NULL DEFAULT 0)""",
    "CREATE INDEX IF NOT EXISTS rm_conversations_user ON rm_conversations (user_id, last_activity)",
    # Every response asked for, and its outcome once there is one: the sweeper re-drives the
    # ones that stay without an outcome.
    """CREATE TABLE IF NOT EXISTS rm_responses (
        response_id uuid PRIMARY KEY, conversation_id uuid NOT NULL, bot_id text NOT NULL,
        bot_name text NOT NULL, requested_at timestamptz NOT NULL, position bigint NOT NULL,
        outcome text, finished_at timestamptz)""",
    "CREATE INDEX IF NOT EXISTS rm_responses_open ON rm_responses (requested_at)"
    " WHERE outcome IS NULL",
]


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


# --- users ---------------------------------------------------------------------------------


def user_registered(cur: Cursor, e: Event) -> None:
    cur.execute(
        "INSERT INTO rm_users (user_id, email, display_name, role, preferences, registered_at,"
        " updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (user_id) DO NOTHING",
        (
            e.aggregate_id,
            e.data["email"],
            e.data["display_name"],
            e.data["role"],
            _json({"theme": "system", "auto_route": False}),
            e.at,
            e.at,
        ),
    )


def profile_updated(cur: Cursor, e: Event) -> None:
    cur.execute(
        "UPDATE rm_users SET display_name = %s, avatar = %s,"
        " preferences = preferences || %s::jsonb, updated_at = %s WHERE user_id = %s",
        (
            e.data["display_name"],
            e.data["avatar"],
            _json(e.data["preferences"]),
            e.at,
            e.aggregate_id,
        ),
    )


def default_bot_chosen(cur: Cursor, e: Event) -> None:
    cur.execute(
        "UPDATE rm_users SET default_bot_id = %s, updated_at = %s WHERE user_id = %s",
        (str(e.data["bot_id"]), e.at, e.aggregate_id),
    )


def role_granted(cur: Cursor, e: Event) -> None:
    cur.execute(
        "UPDATE rm_users SET role = %s, updated_at = %s WHERE user_id = %s",
        (e.data["role"], e.at, e.aggregate_id),
    )


def bot_customized(cur: Cursor, e: Event) -> None:
    cur.execute(
        "INSERT INTO rm_bot_overrides (user_id, bot_id, overrides) VALUES (%s, %s, %s)"
        " ON CONFLICT (user_id, bot_id) DO UPDATE SET overrides = EXCLUDED.overrides",
        (e.aggregate_id, str(e.data["bot_id"]), _json(e.data["overrides"])),
    )


# --- bots ----------------------------------------------------------------------------------


def bot_created(cur: Cursor, e: Event) -> None:
    cur.execute(
        "INSERT INTO rm_bots (bot_id, owner_id, persona, model, visibility, builtin, created_at,"
        " updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (bot_id) DO NOTHING",
        (
            e.aggregate_id,
            e.data["owner_id"],
            _json(e.data["persona"]),
            e.data["model"],
            e.data["visibility"],
            e.data["builtin"],
            e.at,
            e.at,
        ),
    )


def bot_updated(cur: Cursor, e: Event) -> None:
    cur.execute(
        "UPDATE rm_bots SET persona = %s, model = %s, visibility = %s, updated_at = %s"
        " WHERE bot_id = %s",
        (_json(e.data["persona"]), e.data["model"], e.data["visibility"], e.at, e.aggregate_id),
    )


def bot_archived(cur: Cursor, e: Event) -> None:
    cur.execute(
        "UPDATE rm_bots SET archived = true, updated_at = %s WHERE bot_id = %s",
        (e.at, e.aggregate_id),
    )


# --- conversations -------------------------------------------------------------------------


def conversation_started(cur: Cursor, e: Event) -> None:
    e = as_of(e, "started_at")  # an imported conversation started where it happened
    cur.execute(
        "INSERT INTO rm_conversations (conversation_id, user_id, title, bot_id, started_at,"
        " last_activity) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (e.aggregate_id, e.data["user_id"], e.data["title"], e.data["bot_id"], e.at, e.at),
    )


def conversation_touched(cur: Cursor, e: Event) -> None:
    counts = 1 if e.name in ("MessagePosted", "ResponseCompleted") else 0
    cur.execute(
        "UPDATE rm_conversations SET last_activity = greatest(last_activity, %s),"
        " message_count = message_count + %s WHERE conversation_id = %s",
        (e.at, counts, e.aggregate_id),
    )


def bot_switched(cur: Cursor, e: Event) -> None:
    cur.execute(
        "UPDATE rm_conversations SET bot_id = %s, last_activity = greatest(last_activity, %s)"
        " WHERE conversation_id = %s",
        (e.data["bot_id"], e.at, e.aggregate_id),
    )


def response_requested(cur: Cursor, e: Event) -> None:
    cur.execute(
        "INSERT INTO rm_responses (response_id, conversation_id, bot_id, bot_name, requested_at,"
        " position) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (
            str(e.data["response_id"]),
            e.aggregate_id,
            e.data["bot_id"],
            e.data["bot_name"],
            e.at,
            e.position,
        ),
    )


def response_finished(cur: Cursor, e: Event) -> None:
    outcome = {
        "ResponseCompleted": "completed",
        "ResponseFailed": "failed",
        "ResponseCancelled": "cancelled",
    }[e.name]
    cur.execute(
        "UPDATE rm_responses SET outcome = %s, finished_at = %s WHERE response_id = %s",
        (outcome, e.at, str(e.data["response_id"])),
    )


def response_completed(cur: Cursor, e: Event) -> None:
    conversation_touched(cur, e)
    response_finished(cur, e)


def turn_recorded(cur: Cursor, e: Event) -> None:
    """A turn from elsewhere is a message of the conversation, at its original time if known."""
    e = as_of(e, "at")
    cur.execute(
        "UPDATE rm_conversations SET last_activity = greatest(last_activity, %s),"
        " message_count = message_count + 1 WHERE conversation_id = %s",
        (e.at, e.aggregate_id),
    )


def conversation_renamed(cur: Cursor, e: Event) -> None:
    cur.execute(
        "UPDATE rm_conversations SET title = %s WHERE conversation_id = %s",
        (e.data["title"], e.aggregate_id),
    )


def conversation_deleted(cur: Cursor, e: Event) -> None:
    """Hidden from every view; the log keeps the events."""
    cur.execute("DELETE FROM rm_conversations WHERE conversation_id = %s", (e.aggregate_id,))


HANDLERS: dict[tuple[str, str], Handler] = {
    ("User", "Registered"): user_registered,
    ("User", "ProfileUpdated"): profile_updated,
    ("User", "DefaultBotChosen"): default_bot_chosen,
    ("User", "RoleGranted"): role_granted,
    ("User", "BotCustomized"): bot_customized,
    ("Bot", "Created"): bot_created,
    ("Bot", "Updated"): bot_updated,
    ("Bot", "Archived"): bot_archived,
    ("Conversation", "Started"): conversation_started,
    ("Conversation", "MessagePosted"): conversation_touched,
    ("Conversation", "ResponseRequested"): response_requested,
    ("Conversation", "ResponseCompleted"): response_completed,
    ("Conversation", "ResponseFailed"): response_finished,
    ("Conversation", "ResponseCancelled"): response_finished,
    ("Conversation", "Renamed"): conversation_renamed,
    ("Conversation", "TitleGenerated"): conversation_renamed,
    ("Conversation", "Deleted"): conversation_deleted,
    ("Conversation", "BotSwitched"): bot_switched,
    ("Conversation", "TurnRecorded"): turn_recorded,
}
