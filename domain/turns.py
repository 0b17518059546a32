"""The values a conversation is made of: turns, completions, the settings a response used."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.errors import InvalidField, MessageRejected

MAX_MESSAGE_CHARS = 32_000
TITLE_CHARS = 60
MAX_COMMENT_CHARS = 2_000

PENDING, COMPLETED, FAILED, CANCELLED = "pending", "complete", "failed", "cancelled"
TERMINAL = frozenset({COMPLETED, FAILED, CANCELLED})


@dataclass
class Turn:
    """One node of the transcript tree: a user message or an assistant response.

    `parent_id` is the turn it follows; an edited message is a sibling of the original, a
    regenerated response a sibling of the first, so every branch is kept.
    """

    id: UUID
    role: str
    text: str
    status: str
    created_at: Any
    parent_id: UUID | None = None
    client_msg_id: str = ""
    usage: dict[str, Any] | None = None
    error: str = ""
    request: dict[str, Any] | None = None  # the bot, model, prompt and sampling as asked for
    parsed: dict[str, Any] | None = None  # command, mentions, entities, intent of a message
    feedback: dict[str, Any] | None = None  # rating (+1/-1) and comment on a response
    prompt_turn_ids: list[str] | None = None  # the turns the model saw; None: not recorded
    attachments: list[dict[str, Any]] | None = None  # files sent with a user message


@dataclass(frozen=True)
class Completion:
    """What a finished generation produced, as recorded on ResponseCompleted."""

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    model: str
    ttft_ms: float
    total_ms: float
    model_version: str = ""  # the weights that wrote it ("" before versions were recorded)
    prompt_turn_ids: tuple[str, ...] | None = None  # the history turns in the prompt, in order

    def as_fields(self) -> dict[str, Any]:
        fields = dict(self.__dict__)
        if self.prompt_turn_ids is not None:
            fields["prompt_turn_ids"] = list(self.prompt_turn_ids)
        return fields


@dataclass(frozen=True)
class ResponseSettings:
    """The bot as used for one response: recorded on ResponseRequested, so history stays exact."""

    bot_id: str
    bot_name: str
    model: str
    system_prompt: str
    sampling: dict[str, Any]


def title_from(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


def check_message_text(text: str) -> None:
    if not text.strip():
        raise MessageRejected("The message is empty.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise MessageRejected(f"The message is longer than {MAX_MESSAGE_CHARS} characters.")


def check_title(title: str) -> str:
    title = " ".join(title.split())
    if not title or len(title) > TITLE_CHARS * 2:
        raise InvalidField("title", f"A title is 1 to {TITLE_CHARS * 2} characters.")
    return title


def check_feedback(rating: int, comment: str) -> None:
    if rating not in (1, -1):
        raise InvalidField("rating", "rating is 1 (good) or -1 (bad).")
    if len(comment) > MAX_COMMENT_CHARS:
        raise InvalidField("comment", f"A comment is at most {MAX_COMMENT_CHARS} characters.")
