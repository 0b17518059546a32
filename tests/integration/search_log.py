"""Writing log events by hand for the search contract tests: positions in order, clear times."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from projections.log_events import Event

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@dataclass
class Log:
    events: list[Event] = field(default_factory=list)
    clock: datetime = T0

    def _add(self, aggregate: str, name: str, aggregate_id: str, **data: Any) -> Event:
        data.setdefault("timestamp", self.clock)
        self.clock += timedelta(seconds=1)
        event = Event(aggregate, name, aggregate_id, data, len(self.events) + 1)
        self.events.append(event)
        return event

    def at(self, when: datetime) -> Log:
        self.clock = when
        return self

    def bot(self, name: str) -> str:
        bot_id = str(uuid.uuid4())
        self._add("Bot", "Created", bot_id, persona={"name": name})
        return bot_id

    def rename_bot(self, bot_id: str, name: str) -> None:
        self._add("Bot", "Updated", bot_id, persona={"name": name})

    def conversation(self, user_id: str, bot_id: str) -> str:
        conversation_id = str(uuid.uuid4())
        self._add("Conversation", "Started", conversation_id, user_id=user_id, bot_id=bot_id)
        return conversation_id

    def post(self, conversation_id: str, user_id: str, text: str) -> str:
        message_id = str(uuid.uuid4())
        self._add(
            "Conversation",
            "MessagePosted",
            conversation_id,
            message_id=message_id,
            user_id=user_id,
            text=text,
        )
        return message_id

    def reply(
        self,
        conversation_id: str,
        bot_id: str,
        bot_name: str,
        text: str,
        latency_ms: float = 100.0,
        tokens: int = 10,
    ) -> str:
        response_id = str(uuid.uuid4())
        self._add(
            "Conversation",
            "ResponseRequested",
            conversation_id,
            response_id=response_id,
            bot_id=bot_id,
            bot_name=bot_name,
        )
        self._add(
            "Conversation",
            "ResponseCompleted",
            conversation_id,
            response_id=response_id,
            text=text,
            completion_tokens=tokens,
            total_ms=latency_ms,
        )
        return response_id

    def rate(self, conversation_id: str, response_id: str, rating: int) -> None:
        self._add(
            "Conversation", "FeedbackGiven", conversation_id, response_id=response_id, rating=rating
        )

    def record(self, conversation_id: str, role: str, text: str, at: datetime | None) -> str:
        turn_id = str(uuid.uuid4())
        extra = {"at": at.isoformat()} if at else {}
        self._add(
            "Conversation",
            "TurnRecorded",
            conversation_id,
            turn_id=turn_id,
            role=role,
            text=text,
            **extra,
        )
        return turn_id

    def switch_bot(self, conversation_id: str, bot_id: str) -> None:
        self._add("Conversation", "BotSwitched", conversation_id, bot_id=bot_id)

    def delete(self, conversation_id: str) -> None:
        self._add("Conversation", "Deleted", conversation_id)

    async def read(self, after: int, upto: int) -> Sequence[Event]:
        return [e for e in self.events if after < e.position <= upto]
