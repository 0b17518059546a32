"""Queries over the PostgreSQL read models (synchronous; the API runs them on its store threads)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, LiteralString

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from domain.persona import Persona
from projections import tables

POOL_WAIT_S = 5.0  # while PostgreSQL is down, a query fails (503) after this, not after 30 s


@dataclass(frozen=True)
class BotView:
    bot_id: str
    owner_id: str
    persona: Persona
    base: Persona  # before the user's own customization
    model: str
    visibility: str
    builtin: bool
    customized: bool


class ReadModels:
    def __init__(self, conninfo: str, size: int = 4) -> None:
        self.pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=size,
            open=True,
            check=ConnectionPool.check_connection,  # a dead connection is replaced, not used
            timeout=POOL_WAIT_S,
        )

    def close(self) -> None:
        self.pool.close()

    def ping(self, timeout_s: float = 2.0) -> None:
        """Raises unless the database answers (readiness)."""
        with self.pool.connection(timeout=timeout_s) as conn:
            conn.execute("SELECT 1")

    def _rows(self, sql: LiteralString, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    def bots_for(self, user_id: str) -> list[BotView]:
        """Every bot the user may use, with their own customizations applied."""
        rows = self._rows(
            "SELECT b.*, o.overrides FROM rm_bots b LEFT JOIN rm_bot_overrides o"
            " ON o.bot_id = b.bot_id AND o.user_id::text = %s"
            " WHERE NOT b.archived AND (b.visibility = 'shared' OR b.owner_id = %s)"
            " ORDER BY b.builtin DESC, b.created_at",
            (user_id, user_id),
        )
        return [_bot_view(row) for row in rows]

    def conversations_of(self, user_id: str, limit: int = 100) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT c.conversation_id, c.title, c.bot_id, c.started_at, c.last_activity,"
            " c.message_count, b.persona->>'name' AS bot_name FROM rm_conversations c"
            " LEFT JOIN rm_bots b ON b.bot_id::text = c.bot_id"
            " WHERE c.user_id = %s ORDER BY c.last_activity DESC LIMIT %s",
            (user_id, limit),
        )

    def users(self) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT user_id, email, display_name, role, registered_at FROM rm_users"
            " ORDER BY registered_at"
        )

    def position(self) -> int:
        with self.pool.connection() as conn:
            return tables.position(conn)

    def head(self) -> int:
        with self.pool.connection() as conn:
            row = conn.execute("SELECT coalesce(max(notification_id), 0) FROM confab_events")
            found = row.fetchone()
            return int(found[0]) if found else 0

    def wait_until_caught_up(self, timeout_s: float = 3.0) -> bool:
        """Read your own writes: wait until the projector has applied the log's head."""
        head = self.head()
        deadline = time.monotonic() + timeout_s
        while self.position() < head:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True


def _bot_view(row: dict[str, Any]) -> BotView:
    base = Persona.from_fields(_load(row["persona"]))
    overrides = _load(row.get("overrides")) or {}
    return BotView(
        bot_id=str(row["bot_id"]),
        owner_id=row["owner_id"],
        persona=base.with_overrides(overrides) if overrides else base,
        base=base,
        model=row["model"],
        visibility=row["visibility"],
        builtin=row["builtin"],
        customized=bool(overrides),
    )


def _load(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
