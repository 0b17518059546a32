"""Rebuilding the PostgreSQL read models: replay the log into a schema of their own, then swap.

The read-model handlers name their tables without a schema, so a rebuild points the
search_path at a new schema and runs the same handlers there, a thousand events a
transaction. `switch` takes the live projector's lock, catches the new tables up with the
live position and swaps them into `public` in one transaction.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from psycopg import sql

from projections import read_models, tables
from projections.log_events import Event

ReadEvents = Callable[[int, int], Sequence[Event]]  # (after, up to) -> events


def table_names() -> list[str]:
    return [s.split("EXISTS", 1)[1].split()[0] for s in read_models.SCHEMA if "TABLE" in s]


def create_target(conn: psycopg.Connection[Any]) -> str:
    target = f"replay_rm_{time.time_ns()}"
    with conn.transaction():
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(target)))
        _set_path(conn, target)
        for statement in read_models.SCHEMA:
            conn.execute(statement)
    return target


def _set_path(conn: psycopg.Connection[Any], schema: str) -> None:
    conn.execute(sql.SQL("SET LOCAL search_path = {}, public").format(sql.Identifier(schema)))


def apply(conn: psycopg.Connection[Any], target: str, events: Sequence[Event]) -> int:
    """Apply a batch to the target's tables in one transaction; returns its last position."""
    with conn.transaction(), conn.cursor() as cur:
        _set_path(conn, target)
        for event in events:
            for handler in tables.handlers_for(event.aggregate, event.name):
                handler(cur, event)
    return events[-1].position if events else 0


def switch(conn: psycopg.Connection[Any], target: str, position: int, read: ReadEvents) -> int:
    """Catch the target up with the live projector and swap it in; returns the live position."""
    retired = sql.Identifier(f"retired_{target}")
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (tables.LIVE_LOCK,))
        live = tables.position(conn)
        while position < live and (batch := read(position, live)):
            position = apply(conn, target, batch)
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(retired))
        for table in table_names():
            name = sql.Identifier(table)
            conn.execute(sql.SQL("ALTER TABLE public.{} SET SCHEMA {}").format(name, retired))
            conn.execute(
                sql.SQL("ALTER TABLE {}.{} SET SCHEMA public").format(sql.Identifier(target), name)
            )
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(retired))
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(target)))
    return live


def summaries(
    conn: psycopg.Connection[Any], target: str, position: int, read: ReadEvents
) -> tuple[dict[str, str], dict[str, str]]:
    """Each table's row count and digest, live and rebuilt, compared at the same position."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (tables.LIVE_LOCK,))
        live = tables.position(conn)
        while position < live and (batch := read(position, live)):
            position = apply(conn, target, batch)
        return _digests(conn, "public"), _digests(conn, target)


def _digests(conn: psycopg.Connection[Any], schema: str) -> dict[str, str]:
    found = {}
    for table in table_names():
        rows = conn.execute(
            sql.SQL("SELECT t::text FROM {}.{} t ORDER BY 1").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
        ).fetchall()
        digest = hashlib.sha256("\n".join(r[0] for r in rows).encode()).hexdigest()
        found[table] = f"{len(rows)} rows, {digest[:16]}"
    return found


def drop_target(conn: psycopg.Connection[Any], target: str) -> None:
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(target)))
