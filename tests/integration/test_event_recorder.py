"""The event store appends in one statement, in log order, and reads several aggregates in one."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError
from eventsourcing.postgres import PostgresApplicationRecorder

from commands.accounts import load_user, register
from commands.app import ConfabStore
from commands.read_ahead import reading_ahead
from confab import bootstrap
from confab.settings import Settings

Admin = psycopg.Connection[tuple[Any, ...]]


@pytest.fixture
def admin(settings: Settings) -> Iterator[Admin]:
    with psycopg.connect(settings.conninfo(), autocommit=True) as conn:
        yield conn


@pytest.fixture
def store(settings: Settings) -> Iterator[ConfabStore]:
    bootstrap.ensure_database(settings)
    store = bootstrap.build_store(settings, threads=1)
    yield store
    store.close()


@pytest.fixture
def other_store(settings: Settings) -> Iterator[ConfabStore]:
    """Another process's store: its own connection and its own cache."""
    store = bootstrap.build_store(settings, threads=1)
    yield store
    store.close()


def backend_pid(store: ConfabStore) -> int:
    with store.recorder.datastore.get_connection() as conn:  # type: ignore[attr-defined]
        return int(conn.info.backend_pid)


def activity(admin: Admin, pid: int) -> tuple[str, str | None]:
    row = admin.execute(
        "SELECT query, wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
    ).fetchone()
    assert row is not None
    return row[0], row[1]


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def new_user(store: ConfabStore) -> uuid.UUID:
    email = f"{uuid.uuid4().hex[:12]}@recorder.example"
    return register(store, email, "a password 123", "Recorder").id


def test_an_append_is_one_statement_with_no_commit_after_it(
    store: ConfabStore, admin: Admin
) -> None:
    pid = backend_pid(store)
    new_user(store)
    query, _ = activity(admin, pid)
    # The library's own path ends with a COMMIT after the INSERT's results came back.
    assert "confab_events_insert" in query
    assert "COMMIT" not in query.upper()


def test_an_append_waits_for_the_events_table_lock(store: ConfabStore, admin: Admin) -> None:
    """A ROW SHARE lock lets plain INSERTs through but not the EXCLUSIVE lock that keeps
    commit order equal to notification-id order: an append must wait for it."""
    pid = backend_pid(store)
    with ThreadPoolExecutor(1) as pool, admin.transaction():
        admin.execute("LOCK TABLE confab_events IN ROW SHARE MODE")
        appended: Future[uuid.UUID] = pool.submit(new_user, store)
        wait_for(lambda: activity(admin, pid)[1] == "Lock", "the append to wait on the lock")
        assert not appended.done()
    # The lock is gone with the transaction; the append goes through.
    user_id = appended.result(timeout=10)
    assert load_user(store, user_id).display_name == "Recorder"


def test_a_stale_append_is_refused_and_stores_nothing(
    store: ConfabStore, other_store: ConfabStore
) -> None:
    user_id = new_user(store)
    first, second = load_user(store, user_id), load_user(other_store, user_id)
    first.update_profile("First", "", {})
    store.save(first)
    second.update_profile("Second", "", {})
    with pytest.raises(IntegrityError):
        other_store.save(second)
    assert load_user(other_store, user_id).display_name == "First"
    assert load_user(store, user_id).version == first.version


@pytest.fixture
def queries(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The aggregates read with a query of their own."""
    seen: list[object] = []
    select = PostgresApplicationRecorder.select_events

    def counted(self: PostgresApplicationRecorder, originator_id: Any, **kwargs: Any) -> Any:
        seen.append(originator_id)
        return select(self, originator_id, **kwargs)

    monkeypatch.setattr(PostgresApplicationRecorder, "select_events", counted)
    return seen


def test_reading_ahead_loads_aggregates_with_no_query_of_their_own(
    store: ConfabStore, other_store: ConfabStore, queries: list[object]
) -> None:
    cached, uncached, unknown = new_user(store), new_user(other_store), uuid.uuid4()
    load_user(store, cached)
    changed = load_user(other_store, cached)  # another process changes the cached one
    changed.update_profile("Changed elsewhere", "", {})
    other_store.save(changed)
    queries.clear()
    with reading_ahead(store, [cached, uncached, unknown]):
        assert load_user(store, cached).display_name == "Changed elsewhere"
        assert load_user(store, uncached).display_name == "Recorder"
        assert unknown not in store.repository
        assert queries == []
        load_user(store, cached)  # a second read asks again: it may follow a save
        assert queries == [cached]


def test_what_was_read_ahead_is_not_used_after_the_block_or_by_another_thread(
    store: ConfabStore, other_store: ConfabStore, queries: list[object]
) -> None:
    user_id = new_user(store)
    load_user(store, user_id)
    queries.clear()
    with reading_ahead(store, [user_id]):
        elsewhere = threading.Thread(target=load_user, args=(store, user_id))
        elsewhere.start()
        elsewhere.join()
        assert queries == [user_id]
    changed = load_user(other_store, user_id)
    changed.update_profile("Changed later", "", {})
    other_store.save(changed)
    assert load_user(store, user_id).display_name == "Changed later"
