"""The PostgreSQL connection pool each search adapter keeps (for its positions, and for the
full-text index itself), one way for both."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool


def checked_pool(conninfo: str, size: int) -> AsyncConnectionPool:
    """Opened by the adapter's `open`; a connection is checked before use, so after PostgreSQL
    restarts a dead one is replaced instead of failing a query."""
    return AsyncConnectionPool(
        conninfo,
        min_size=1,
        max_size=size,
        open=False,
        check=AsyncConnectionPool.check_connection,
    )
