"""Checking a pooled PostgreSQL connection before use without a round trip while it is idle.

The pool's own check (eventsourcing's `POSTGRES_PRE_PING`) sends an empty query every time a
connection is taken: four times for each chat message (user, bot, conversation, insert), about
a fifth of the append's time when nothing else runs. A healthy idle connection has nothing to
read; when PostgreSQL restarts, or a backend is ended, the server sends an error and closes the
socket, which makes it readable. Only then, or when psycopg already knows the connection is
closed, does the full check run. A connection that dies silently (a network cut, no FIN) fails
its next statement instead, and the event store's retry takes another.
"""

from __future__ import annotations

import select
from typing import Any

from eventsourcing.application import Application
from psycopg import Connection
from psycopg_pool import ConnectionPool


def check_if_stirred(conn: Connection[Any]) -> None:
    """Raise, as the pool's check does, for a connection that cannot be used."""
    if conn.closed or _readable(conn.pgconn.socket):
        ConnectionPool.check_connection(conn)


def _readable(fd: int) -> bool:
    poll = select.poll()
    poll.register(fd, select.POLLIN)
    return bool(poll.poll(0))


def check_only_when_stirred(app: Application) -> None:
    """Use `check_if_stirred` on a PostgreSQL event store's pool (other stores have none).

    psycopg_pool takes its check when the pool is made, and eventsourcing makes the pool
    itself, so it is set on the made pool.
    """
    pool = getattr(getattr(app.recorder, "datastore", None), "pool", None)
    if isinstance(pool, ConnectionPool) and pool._check is not None:
        pool._check = check_if_stirred
