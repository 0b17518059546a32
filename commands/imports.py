"""Importing history from elsewhere: conversations recorded with their original times, for a user.

Ids derive from the source's own ids, so importing the same export again records nothing and
a newer export of the same conversations records only the turns that are new. Conversations
are saved several at a time (one transaction for many events: a save per event is slow).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from commands.accounts import load_user
from commands.app import ConfabStore
from commands.handlers import with_retry_on_conflict
from domain.conversation import Conversation
from domain.ids import imported_conversation_id

BATCH_EVENTS = 1000  # events per save: one transaction, one table lock


@dataclass(frozen=True)
class ImportedTurn:
    original_id: str
    role: str  # "user" or "assistant"
    text: str
    at: datetime | None
    parent: str | None  # the original id of the turn it follows; None: a first turn
    model: str = ""


@dataclass(frozen=True)
class ImportedConversation:
    original_id: str
    title: str
    started_at: datetime | None
    turns: tuple[ImportedTurn, ...]  # parents before children; the branch to continue last


@dataclass(frozen=True)
class Export:
    """What a reader made of an export file: its conversations and what it left out."""

    source: str
    conversations: Sequence[ImportedConversation]
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def turn_count(self) -> int:
        return sum(len(c.turns) for c in self.conversations)


@dataclass
class ImportReport:
    conversations_added: int = 0
    conversations_extended: int = 0  # already here, with turns that were not
    conversations_unchanged: int = 0
    conversations_deleted_here: int = 0  # deleted since an earlier import: left deleted
    turns_recorded: int = 0
    events_recorded: int = 0


Advance = Callable[[int], None]  # told how many more turns are done


def import_export(
    store: ConfabStore,
    user_id: UUID,
    export: Export,
    progress: Advance = lambda _: None,
    batch_events: int = BATCH_EVENTS,
) -> ImportReport:
    """Record every conversation of the export as the user's; `progress(n)` after n turns."""
    load_user(store, user_id)  # the user must exist
    report = ImportReport()
    batch: list[ImportedConversation] = []
    pending = 0
    for imported in export.conversations:
        batch.append(imported)
        pending += len(imported.turns) + 1
        if pending >= batch_events:
            _save_batch(store, user_id, export.source, batch, report)
            progress(sum(len(c.turns) for c in batch))
            batch, pending = [], 0
    if batch:
        _save_batch(store, user_id, export.source, batch, report)
        progress(sum(len(c.turns) for c in batch))
    return report


@dataclass(frozen=True)
class _Change:
    conversation: Conversation | None  # None: nothing to record
    outcome: str  # added, extended, unchanged or deleted_here
    events: int = 0


def _save_batch(
    store: ConfabStore,
    user_id: UUID,
    source: str,
    batch: list[ImportedConversation],
    report: ImportReport,
) -> None:
    changes = [_with_new_turns(store, user_id, source, imported) for imported in batch]
    try:
        store.save(*[c.conversation for c in changes if c.conversation is not None])
    except IntegrityError:
        # Someone wrote to one of these conversations meanwhile: each on its own, reloaded.
        changes = [_save_one(store, user_id, source, imported) for imported in batch]
    for change in changes:
        _count(report, change)


def _save_one(
    store: ConfabStore, user_id: UUID, source: str, imported: ImportedConversation
) -> _Change:
    def attempt() -> _Change:
        change = _with_new_turns(store, user_id, source, imported)
        if change.conversation is not None:
            store.save(change.conversation)
        return change

    return with_retry_on_conflict(attempt)


def _count(report: ImportReport, change: _Change) -> None:
    name = f"conversations_{change.outcome}"
    setattr(report, name, getattr(report, name) + 1)
    report.events_recorded += change.events
    report.turns_recorded += change.events - (1 if change.outcome == "added" else 0)


def _with_new_turns(
    store: ConfabStore, user_id: UUID, source: str, imported: ImportedConversation
) -> _Change:
    """The conversation with the turns it lacks recorded (not yet saved), and how it changed."""
    conversation_id = imported_conversation_id(str(user_id), source, imported.original_id)
    try:
        found: object = store.repository.get(conversation_id)
    except AggregateNotFoundError:
        found = None
    if isinstance(found, Conversation) and found.deleted:
        return _Change(None, "deleted_here")
    if isinstance(found, Conversation):
        conversation, outcome, events = found, "extended", 0
    else:
        conversation = Conversation(
            id=conversation_id,
            user_id=str(user_id),
            title=imported.title,
            bot_id="",
            imported_from=source,
            original_id=imported.original_id,
            started_at=imported.started_at,
        )
        outcome, events = "added", 1
    for turn in imported.turns:
        if conversation.has_turn(conversation.imported_turn_id(turn.original_id)):
            continue
        parent = conversation.imported_turn_id(turn.parent) if turn.parent else None
        conversation.record_turn(
            turn.role,
            turn.text,
            source,
            by=str(user_id),
            at=turn.at,
            original_id=turn.original_id,
            parent_id=parent,
            at_root=parent is None,
            model=turn.model,
        )
        events += 1
    if events == 0:
        return _Change(None, "unchanged")
    return _Change(conversation, outcome, events)
