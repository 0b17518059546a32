"""Appending events in one round trip to PostgreSQL, in log order.

eventsourcing's PostgreSQL recorder appends in a pipelined transaction: BEGIN, lock the events
table, NOTIFY, INSERT; then, once the results are back, COMMIT. That is two round trips, and the
table lock (which keeps commit order equal to notification-id order, so that followers never
pass over a gap that fills later) is held across the first reply and the client's COMMIT. On a
busy 2-core machine the append was half of a chat message's overhead: 1.8 ms to the reply and
1.8 ms to the commit at p50 (bench/overhead), while every other writer waited on the lock.

The library can instead call one database function in autocommit mode (its
`POSTGRES_ENABLE_DB_FUNCTIONS`), but its function does not lock the table. This recorder keeps
that one-call path with a function of its own that does: one statement, its own transaction,
the lock held only inside the server.

A command that reads several aggregates (a chat message reads its user, its conversation and
its bot) can also have their new events read in one query beforehand (`reading_ahead`); each
aggregate's own read then takes its events from that answer instead of asking again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

INSERT_FUNCTION = SQL(
    "CREATE OR REPLACE FUNCTION {schema}.{function}(events {schema}.{event}[]) "
    "RETURNS SETOF bigint LANGUAGE plpgsql AS $body$ "
    "BEGIN "
    "  SET LOCAL lock_timeout = '{lock_timeout}s'; "
    "  LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
    "  NOTIFY {channel}; "
    "  RETURN QUERY "
    "    INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
    "    SELECT originator_id, originator_version, topic, state FROM unnest(events) "
    "    RETURNING notification_id; "
    "END; $body$"
)

# The events of each aggregate after a version (0: all of them), in one query. LATERAL keeps
# it one primary-key lookup per aggregate: a plain join was planned as a scan of the table.
READ_AHEAD = SQL(
    "SELECT e.originator_id, e.originator_version, e.topic, e.state "
    "FROM unnest(%s::{id_type}[], %s::bigint[]) AS w(id, after) "
    "CROSS JOIN LATERAL (SELECT * FROM {schema}.{table} AS t "
    "  WHERE t.originator_id = w.id AND t.originator_version > w.after) AS e "
    "ORDER BY e.originator_id, e.originator_version"
)


class OneTripRecorder(PostgresApplicationRecorder):
    """Used with `POSTGRES_ENABLE_DB_FUNCTIONS`: each append is one call of
    `<table>_insert(events)`, which locks the table, notifies and inserts."""

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        # Named for its table: the library's one function per schema serves one table only.
        self.pg_function_name_insert_events = f"{events_table_name}_insert"
        function = Identifier(self.pg_function_name_insert_events)
        schema = Identifier(datastore.schema)
        self.sql_invoke_pg_function_insert_events = SQL("SELECT * FROM {}.{}((%s))").format(
            schema, function
        )
        self.sql_create_statements[self.create_insert_function_statement_index] = (
            INSERT_FUNCTION.format(
                schema=schema,
                function=function,
                event=Identifier(self.stored_event_type_name),
                table=Identifier(events_table_name),
                channel=Identifier(self.channel_name),
                lock_timeout=datastore.lock_timeout,
            )
        )
        self.read_ahead_statement = READ_AHEAD.format(
            id_type=Identifier(datastore.originator_id_type),
            schema=schema,
            table=Identifier(events_table_name),
        )
        # Per store thread: aggregate id -> (the version read after, the events after it).
        self._ahead = threading.local()

    @contextmanager
    def reading_ahead(self, after: Mapping[UUID, int]) -> Iterator[None]:
        """Within the block, this thread's first read of each aggregate in `after`, from a
        version at or past the one given, is answered from one query made now."""
        found: dict[UUID, tuple[int, list[StoredEvent]]] = {
            aggregate_id: (version, []) for aggregate_id, version in after.items()
        }
        for event in self._select_after(list(after), list(after.values())):
            found[event.originator_id][1].append(event)
        self._ahead.events = found
        try:
            yield
        finally:
            self._ahead.events = None

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _select_after(self, ids: list[UUID], versions: list[int]) -> list[StoredEvent]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.read_ahead_statement, (ids, versions), prepare=True)
            return [
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        ahead: dict[Any, tuple[int, list[StoredEvent]]] | None = getattr(
            self._ahead, "events", None
        )
        read = ahead.pop(originator_id, None) if ahead else None
        after = gt or 0
        # Only a whole read onwards from what was read ahead; anything else asks again.
        if read is not None and lte is None and not desc and limit is None and after >= read[0]:
            return [event for event in read[1] if event.originator_version > after]
        return super().select_events(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)
