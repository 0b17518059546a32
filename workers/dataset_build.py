"""`confab dataset build`: reads the log up to a position or a time and writes a dataset.

The upper bound is fixed before reading (the newest position now, or the one given), so a
build is a pure function of the log up to that position: building twice gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from commands.app import ConfabStore
from projections.dataset_files import write_dataset
from projections.datasets import DatasetBuilder, Filters
from workers.projector import to_projection_event

BATCH = 1000
CONVERSATION_TOPIC = "domain.conversation:Conversation."
EVENT_NAMES = (
    "MessagePosted",
    "TurnRecorded",
    "ResponseRequested",
    "ResponseCompleted",
    "FeedbackGiven",
    "Deleted",
)


@dataclass(frozen=True)
class Until:
    """Where a build stops: at a log position, at a time, or (neither) at the newest event."""

    position: int | None = None
    time: datetime | None = None

    @classmethod
    def parse(cls, text: str | None) -> Until:
        if not text:
            return cls()
        if text.isdigit():
            return cls(position=int(text))
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"--until is a log position (a number) or an ISO time, not {text!r}"
            ) from None
        if when.tzinfo is None:
            raise ValueError("--until needs a time zone, e.g. 2026-11-24T12:00:00+00:00")
        return cls(time=when)


def build(
    store: ConfabStore,
    out: Path | None,
    data_dir: Path,
    filters: Filters,
    until: Until,
    *,
    shard_rows: int = 10_000,
    progress: bool = True,
) -> tuple[Path, dict[str, Any]]:
    """Build a dataset into `out` (default: data_dir/datasets/log-<last position>)."""
    newest = store.recorder.max_notification_id() or 0
    stop = min(newest, until.position) if until.position is not None else newest
    builder = DatasetBuilder(filters)
    last = _read(store, builder, stop, until, progress)
    folder = out or data_dir / "datasets" / f"log-{last}"
    rows = builder.rows()
    manifest = {
        "positions": {"from": 1, "until": last},
        "until_time": until.time.isoformat() if until.time else None,
        "filters": filters.as_dict(),
        "counts": {
            "conversation_events": builder.events,
            "conversations": len(builder.conversations),
            "examples": len(rows),
            "train": sum(1 for r in rows if r["split"] == "train"),
            "heldout": sum(1 for r in rows if r["split"] == "heldout"),
            "dropped": dict(sorted(builder.dropped.items())),
        },
    }
    return folder, write_dataset(folder, rows, manifest, shard_rows)


def _read(
    store: ConfabStore, builder: DatasetBuilder, stop: int, until: Until, progress: bool
) -> int:
    """Feed the builder every Conversation event up to `stop`; the last position covered."""
    topics = [CONVERSATION_TOPIC + name for name in EVENT_NAMES]
    position = 0
    with tqdm(total=stop, unit="pos", desc="reading the log", disable=not progress) as bar:
        while position < stop:
            batch = store.recorder.select_notifications(
                position + 1, BATCH, stop=stop, topics=topics
            )
            if not batch:
                break
            for notification in batch:
                event = to_projection_event(store, notification)
                if until.time is not None and event.at > until.time:
                    bar.update(stop - position)
                    return position
                builder.apply(event)
                bar.update(notification.id - position)
                position = notification.id
    # Past the last Conversation event nothing else was read: the range still ends at `stop`,
    # unless a time bound stopped it earlier (then the newest event read is the bound).
    return stop if until.time is None else position
