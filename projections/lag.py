"""How far each projection is behind the log: events not yet applied, and for how long."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg


@dataclass(frozen=True)
class Lag:
    name: str
    position: int
    head: int
    events: int  # stored events after the position (ids have holes: counted, not subtracted)
    seconds: float  # how long the oldest of them has been waiting; 0 when caught up


def head(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT coalesce(max(notification_id), 0) FROM confab_events").fetchone()
    return int(row[0]) if row else 0


def lag_of(conn: psycopg.Connection[Any], name: str, position: int, now: datetime) -> Lag:
    row = conn.execute(
        "SELECT count(*), min(notification_id), max(notification_id) FROM confab_events"
        " WHERE notification_id > %s",
        (position,),
    ).fetchone()
    behind, oldest, newest = (int(row[0]), row[1], row[2]) if row else (0, None, None)
    seconds = 0.0
    if oldest is not None:
        state = conn.execute(
            "SELECT state FROM confab_events WHERE notification_id = %s", (oldest,)
        ).fetchone()
        if state:
            stamp = json.loads(bytes(state[0]))["timestamp"]["_data_"]
            seconds = max(0.0, (now - datetime.fromisoformat(stamp)).total_seconds())
    return Lag(name, position, int(newest or position), behind, seconds)


def read_model_position(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(
        "SELECT position FROM projection_position WHERE name = 'read_models'"
    ).fetchone()
    return int(row[0]) if row else 0


def relay_position(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT coalesce(max(position), 0) FROM relay_position").fetchone()
    return int(row[0]) if row else 0


def lags(conn: psycopg.Connection[Any], search_position: int) -> list[Lag]:
    now = datetime.now(UTC)
    return [
        lag_of(conn, "relay", relay_position(conn), now),
        lag_of(conn, "read_models", read_model_position(conn), now),
        lag_of(conn, "search", search_position, now),
    ]
