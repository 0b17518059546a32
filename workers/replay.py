"""Replaying the log into a new view: the search view (either adapter) and the read models.

A rebuild reads the notification log a thousand events at a time into a new target (schema
or index) while the live projectors keep running, then switches to it atomically. A check
rebuilds the same way and compares the new view with the live one instead of switching.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import psycopg
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from commands.app import ConfabStore
from projections import rebuild_tables, tables
from projections.log_events import Event
from projections.search.port import SearchView
from workers.projector import to_projection_event

BATCH = 1000  # events per read and per transaction
Apply = Callable[[Sequence[Event]], Awaitable[None]]


@dataclass
class Outcome:
    view: str
    events: int = 0
    seconds: float = 0.0
    position: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


class LogReader:
    """The event store's log as projection events, read on a thread."""

    def __init__(self, store: ConfabStore) -> None:
        self.store = store

    def head(self) -> int:
        return self.store.recorder.max_notification_id() or 0

    def read(self, after: int, upto: int, limit: int = BATCH) -> Sequence[Event]:
        notes = self.store.recorder.select_notifications(after + 1, limit, stop=upto)
        return [to_projection_event(self.store, n) for n in notes]

    async def read_async(self, after: int, upto: int) -> Sequence[Event]:
        return await asyncio.to_thread(self.read, after, upto)


def progress_bar(quiet: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>8.0f} events/s"),
        TimeRemainingColumn(),
        disable=quiet,
    )


async def _fill(
    reader: LogReader, apply: Apply, name: str, quiet: bool, outcome: Outcome, upto: int = 0
) -> int:
    """Read the log from the start up to `upto` (else its head as we begin) into `apply`.

    A check stops at the live view's position, so the rebuild is never ahead of it.
    """
    head = upto or await asyncio.to_thread(reader.head)
    loop = asyncio.get_running_loop()
    started, position = loop.time(), 0
    with progress_bar(quiet) as bar:
        task = bar.add_task(name, total=head, rate=0.0)
        next_batch = asyncio.create_task(reader.read_async(0, head))
        while True:
            batch = await next_batch
            if not batch:
                break
            position = batch[-1].position
            # Read the next batch while this one is written.
            next_batch = asyncio.create_task(reader.read_async(position, head))
            await apply(batch)
            outcome.events += len(batch)
            outcome.seconds = loop.time() - started
            bar.update(task, completed=position, rate=outcome.rate)
    return position


async def replay_search(
    view: SearchView, reader: LogReader, check: bool = False, quiet: bool = False
) -> Outcome:
    outcome = Outcome(f"search ({view.engine})")
    target = await view.create_target()
    try:

        async def apply(batch: Sequence[Event]) -> None:
            await view.apply(batch, target)

        upto = await view.position() if check else 0
        await _fill(reader, apply, outcome.view, quiet, outcome, upto)
        if check:
            live, rebuilt = await view.compare(target, reader.read_async)
            outcome.position = live.position
            if (live.documents, live.digest) != (rebuilt.documents, rebuilt.digest):
                outcome.differences.append(
                    f"{outcome.view}: live {live.documents} documents, {live.digest[:16]}"
                    f" != rebuilt {rebuilt.documents} documents, {rebuilt.digest[:16]}"
                    f" (at position {live.position})"
                )
        else:
            outcome.position = await view.switch(target, reader.read_async)
            target = ""
    finally:
        if target:
            await view.drop_target(target)
    return outcome


async def replay_read_models(
    conninfo: str, reader: LogReader, check: bool = False, quiet: bool = False
) -> Outcome:
    outcome = Outcome("read models")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        target = rebuild_tables.create_target(conn)
        try:

            async def apply(batch: Sequence[Event]) -> None:
                await asyncio.to_thread(rebuild_tables.apply, conn, target, batch)

            upto = await asyncio.to_thread(tables.position, conn) if check else 0
            position = await _fill(reader, apply, outcome.view, quiet, outcome, upto)
            if check:
                live, rebuilt = await asyncio.to_thread(
                    rebuild_tables.summaries, conn, target, position, reader.read
                )
                outcome.differences = [
                    f"{table}: live {live[table]} != rebuilt {rebuilt[table]}"
                    for table in live
                    if live[table] != rebuilt[table]
                ]
            else:
                outcome.position = await asyncio.to_thread(
                    rebuild_tables.switch, conn, target, position, reader.read
                )
                target = ""
        finally:
            if target:
                rebuild_tables.drop_target(conn, target)
    return outcome
