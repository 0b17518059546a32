"""The training-dataset projection: supervised fine-tuning examples from the conversation log.

Each completed response becomes one example exactly as the model saw it: the persona prompt
recorded on ResponseRequested, the history turns recorded on ResponseCompleted (v2
`prompt_turn_ids`; for v1 completions the history is rebuilt as the worker built it), and the
response itself, with the feedback it got and the log positions of every event it came from.
An imported conversation (TurnRecorded) gives one example per assistant turn.

Pure: it is fed projection Events in log order and returns rows; files are dataset_files.py.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from projections.log_events import Event
from projections.scrub import scrub

CHAT, IMPORT = "chat", "import"
RECORDED, RECONSTRUCTED = "recorded", "reconstructed"


@dataclass(frozen=True)
class Filters:
    """Which examples a dataset keeps; recorded in its manifest."""

    only_liked: bool = False
    drop_disliked: bool = True
    min_response_chars: int = 1
    deduplicate: bool = True
    include_imported: bool = True
    heldout_percent: int = 10  # of conversations, chosen by a hash of their id: stable
    max_history_turns: int = 20  # for v1 completions, which did not record their prompt

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _Turn:
    id: str
    role: str
    text: str
    parent: str | None
    positions: list[int]
    source: str = CHAT
    completed: bool = False
    request: dict[str, Any] | None = None
    completion: dict[str, Any] | None = None
    rating: int = 0
    comment: str = ""
    feedback_positions: list[int] = field(default_factory=list)


@dataclass
class _Conversation:
    id: str
    turns: dict[str, _Turn] = field(default_factory=dict)
    leaf: str | None = None
    deleted: bool = False
    finished: list[tuple[int, str]] = field(default_factory=list)  # (position, turn id)

    def append(self, turn: _Turn) -> None:
        self.turns[turn.id] = turn
        self.leaf = turn.id

    def path_before(self, turn_id: str) -> list[_Turn]:
        path: list[_Turn] = []
        current = self.turns[turn_id].parent
        while current is not None and current in self.turns:
            path.append(self.turns[current])
            current = self.turns[current].parent
        return path[::-1]


class DatasetBuilder:
    """Fed the log's Conversation events in order; `rows()` gives the filtered examples."""

    def __init__(self, filters: Filters) -> None:
        self.filters = filters
        self.conversations: dict[str, _Conversation] = {}
        self.events = 0
        self.dropped: dict[str, int] = {}

    def apply(self, event: Event) -> None:
        if event.aggregate != "Conversation":
            return
        self.events += 1
        conv = self.conversations.setdefault(event.aggregate_id, _Conversation(event.aggregate_id))
        handler = getattr(self, f"_on_{event.name}", None)
        if handler is not None:
            handler(conv, event.data, event.position)

    def _on_MessagePosted(self, conv: _Conversation, data: dict[str, Any], at: int) -> None:
        parent_id = data.get("parent_id")
        parent = None if data.get("at_root") else str(parent_id) if parent_id else conv.leaf
        turn = _Turn(str(data["message_id"]), "user", data["text"], parent, [at], completed=True)
        conv.append(turn)

    def _on_TurnRecorded(self, conv: _Conversation, data: dict[str, Any], at: int) -> None:
        # v2 (an import) names the turn it followed, or the root; v1 followed the newest turn.
        parent_id = data.get("parent_id")
        parent = None if data.get("at_root") else str(parent_id) if parent_id else conv.leaf
        turn = _Turn(str(data["turn_id"]), data["role"], data["text"], parent, [at], IMPORT)
        turn.completed = True
        conv.append(turn)
        if turn.role == "assistant":
            conv.finished.append((at, turn.id))

    def _on_ResponseRequested(self, conv: _Conversation, data: dict[str, Any], at: int) -> None:
        turn = _Turn(str(data["response_id"]), "assistant", "", str(data["message_id"]), [at])
        turn.request = data
        conv.append(turn)

    def _on_ResponseCompleted(self, conv: _Conversation, data: dict[str, Any], at: int) -> None:
        turn = conv.turns.get(str(data["response_id"]))
        if turn is None:
            return
        turn.text, turn.completed, turn.completion = data["text"], True, data
        turn.positions.append(at)
        conv.finished.append((at, turn.id))

    def _on_FeedbackGiven(self, conv: _Conversation, data: dict[str, Any], at: int) -> None:
        turn = conv.turns.get(str(data["response_id"]))
        if turn is not None:  # the latest rating stands
            turn.rating, turn.comment = int(data["rating"]), data.get("comment", "")
            turn.feedback_positions.append(at)

    def _on_Deleted(self, conv: _Conversation, data: dict[str, Any], at: int) -> None:
        conv.deleted = True

    # --- examples -------------------------------------------------------------------------

    def rows(self) -> list[dict[str, Any]]:
        """The examples that pass the filters, in the log order of their responses."""
        finished = sorted(
            (at, conv, turn_id)
            for conv in self.conversations.values()
            for at, turn_id in conv.finished
            if self._keep_conversation(conv)
        )
        rows, seen = [], set()
        for _, conv, turn_id in finished:
            row = self._example(conv, conv.turns[turn_id])
            reason = self._refusal(row)
            if reason is None and self.filters.deduplicate:
                key = hashlib.sha256(canonical_json(row["messages"]).encode()).hexdigest()
                reason = "duplicate" if key in seen else None
                seen.add(key)
            if reason is not None:
                self.dropped[reason] = self.dropped.get(reason, 0) + 1
                continue
            rows.append(row)
        return rows

    def _keep_conversation(self, conv: _Conversation) -> bool:
        if conv.deleted and conv.finished:
            self.dropped["deleted"] = self.dropped.get("deleted", 0) + len(conv.finished)
        return not conv.deleted

    def _refusal(self, row: dict[str, Any]) -> str | None:
        f = self.filters
        if row["source"] == IMPORT and not f.include_imported:
            return "imported"
        if f.only_liked and row["rating"] != 1:
            return "not_liked"
        if f.drop_disliked and row["rating"] == -1:
            return "disliked"
        if len(row["messages"][-1]["content"].strip()) < max(1, f.min_response_chars):
            return "too_short"
        if not any(m["role"] == "user" for m in row["messages"][:-1]):
            return "no_prompt"  # an answer to nothing (an imported chat can open with one)
        return None

    def _example(self, conv: _Conversation, turn: _Turn) -> dict[str, Any]:
        history, prompt_source = self._prompt_turns(conv, turn)
        request, completion = turn.request or {}, turn.completion or {}
        system = request.get("system_prompt", "")
        messages = [{"role": "system", "content": scrub(system)}] if system else []
        messages += [{"role": t.role, "content": scrub(t.text)} for t in history]
        messages.append({"role": "assistant", "content": scrub(turn.text)})
        positions = {p for t in history for p in t.positions[-1:]}
        positions |= set(turn.positions) | set(turn.feedback_positions)
        return {
            "example_id": turn.id,
            "conversation_id": conv.id,
            "split": _split(conv.id, self.filters.heldout_percent),
            "source": turn.source,
            "model": str(completion.get("model", request.get("model", ""))),
            "model_version": str(completion.get("model_version", "")),
            "bot_id": str(request.get("bot_id", "")),
            "prompt_source": prompt_source,
            "messages": messages,
            "rating": turn.rating,
            "feedback_comment": scrub(turn.comment),
            "event_positions": sorted(positions),
        }

    def _prompt_turns(self, conv: _Conversation, turn: _Turn) -> tuple[list[_Turn], str]:
        ids = (turn.completion or {}).get("prompt_turn_ids")
        if turn.source == CHAT and ids is not None and all(i in conv.turns for i in ids):
            return [conv.turns[i] for i in ids], RECORDED
        # As the worker builds it: the finished turns of the branch, the newest kept.
        earlier = [t for t in conv.path_before(turn.id) if t.role == "user" or t.completed]
        kept = earlier[-self.filters.max_history_turns :]
        return kept, IMPORT if turn.source == IMPORT else RECONSTRUCTED


def canonical_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _split(conversation_id: str, heldout_percent: int) -> str:
    bucket = int(hashlib.sha256(conversation_id.encode()).hexdigest()[:8], 16) % 100
    return "heldout" if bucket < heldout_percent else "train"
