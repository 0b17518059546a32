"""Reading the aggregates a command will load in one query instead of one query each."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from uuid import UUID

from eventsourcing.domain import Aggregate

from commands.app import ConfabStore
from commands.event_recorder import OneTripRecorder


def cached(store: ConfabStore, aggregate_id: UUID) -> object | None:
    """The aggregate as this process last read it (maybe stale; never to be changed)."""
    cache = store.repository.cache
    if cache is None:
        return None
    try:
        return cache.get(aggregate_id)
    except KeyError:
        return None


def reading_ahead(store: ConfabStore, ids: Iterable[UUID | None]) -> AbstractContextManager[None]:
    """Within the block, the first load of each of `ids` costs no query of its own: their new
    events (all of them, for one not cached) were read in one query on entering."""
    recorder = store.recorder
    if not isinstance(recorder, OneTripRecorder):
        return nullcontext()
    after: dict[UUID, int] = {}
    for aggregate_id in ids:
        if aggregate_id is not None and aggregate_id not in after:
            aggregate = cached(store, aggregate_id)
            after[aggregate_id] = aggregate.version if isinstance(aggregate, Aggregate) else 0
    return recorder.reading_ahead(after)
