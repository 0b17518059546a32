"""The event store's pool checks a connection only when the server has said something on it."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from commands.pool_check import check_if_stirred
from confab import bootstrap
from confab.settings import Settings


@pytest.fixture
def admin(settings: Settings) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(settings.conninfo("postgres"), autocommit=True) as conn:
        yield conn


def last_query(admin: psycopg.Connection[tuple[object, ...]], pid: int) -> object:
    row = admin.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
    return row[0] if row else None


def end_backend(admin: psycopg.Connection[tuple[object, ...]], pid: int) -> None:
    admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))


@pytest.mark.parametrize(
    ("check", "pinged"), [(ConnectionPool.check_connection, True), (check_if_stirred, False)]
)
def test_an_idle_healthy_connection_is_not_pinged(
    settings: Settings, admin: psycopg.Connection[tuple[object, ...]], check: object, pinged: bool
) -> None:
    with psycopg.connect(settings.conninfo("postgres"), autocommit=True) as conn:
        conn.execute("SELECT 'the last real query'")
        check(conn)  # type: ignore[operator]
        seen = last_query(admin, conn.info.backend_pid)
    assert seen == ("" if pinged else "SELECT 'the last real query'")


def test_a_connection_whose_backend_ended_fails_the_check(
    settings: Settings, admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    with psycopg.connect(settings.conninfo("postgres"), autocommit=True) as conn:
        end_backend(admin, conn.info.backend_pid)
        with pytest.raises(psycopg.OperationalError):
            check_if_stirred(conn)


def test_the_event_store_hands_out_a_live_connection_after_its_backend_ended(
    settings: Settings, admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    bootstrap.ensure_database(settings)
    store = bootstrap.build_store(settings, threads=1)
    try:
        pool = store.recorder.datastore.pool  # type: ignore[attr-defined]
        with pool.connection() as conn:
            ended = conn.info.backend_pid
        end_backend(admin, ended)
        with pool.connection() as conn:
            assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}
            assert conn.info.backend_pid != ended
    finally:
        store.close()
