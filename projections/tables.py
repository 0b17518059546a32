"""Applying the log to the PostgreSQL views: a batch and its position in one transaction.

So each event is applied exactly once, whatever crashes when: the position can never be ahead
of, or behind, what the tables hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg

from projections import read_models
from projections.log_events import Event, Handler

NAME = "read_models"
LIVE_LOCK = 0x726D6C6976  # every live batch and a rebuild's switch: one writer at a time
POSITION_TABLE = """CREATE TABLE IF NOT EXISTS projection_position (
    name text PRIMARY KEY, position bigint NOT NULL, updated_at timestamptz DEFAULT now())"""


def handlers_for(aggregate: str, name: str) -> list[Handler]:
    """The read tables' handlers (the search view follows the log on its own)."""
    found = read_models.HANDLERS.get((aggregate, name))
    return [found] if found is not None else []


def create_tables(conn: psycopg.Connection[Any]) -> None:
    for statement in [POSITION_TABLE, *read_models.SCHEMA]:
        conn.execute(statement)


def position(conn: psycopg.Connection[Any], name: str = NAME) -> int:
    row = conn.execute(
        "SELECT position FROM projection_position WHERE name = %s", (name,)
    ).fetchone()
    return int(row[0]) if row else 0


def apply_batch(
    conn: psycopg.Connection[Any], events: Iterable[tuple[int, Event]], name: str = NAME
) -> int:
    last = None
    with conn.transaction(), conn.cursor() as cur:
        # A rebuild may have swapped in tables already past part of this batch.
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (LIVE_LOCK,))
        done = position(conn, name)
        for notification_id, event in events:
            if notification_id <= done:
                continue
            for handler in handlers_for(event.aggregate, event.name):
                handler(cur, event)
            last = notification_id
        if last is not None:
            cur.execute(
                "INSERT INTO projection_position (name, position) VALUES (%s, %s) "
                "ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now()",
                (name, last),
            )
    return last or 0
