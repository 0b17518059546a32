"""Titles the model writes for a new chat from its first exchange: the prompt, the cleanup, the
command that records one (a user's own title always stays)."""

from __future__ import annotations

import re
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from commands.app import ConfabStore
from commands.handlers import change
from domain.conversation import Conversation

TITLE_WORDS = 8
TITLE_TOKENS = 16
_EXCERPT_CHARS = 600
_LABEL = re.compile(r"^\s*(title|chat title|conversation title)\s*[:\-–]\s*", re.IGNORECASE)
_EDGES = "\"'“”‘’`*#_.:;,!- \t"
_SENTENCE_END = re.compile(r"[.!?;](\s|$)")
# Words a cut-off title should not end on ("Sorting lists in Python is").
_DANGLING = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "from",
        "by",
        "at",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "can",
        "how",
    ]
)


def title_prompt(question: str, answer: str) -> list[dict[str, str]]:
    """Chat messages asking for a short title of an exchange (each side cut to an excerpt)."""
    return [
        {
            "role": "system",
            "content": "You name chats. Reply with a short title of 2 to 6 words and nothing else.",
        },
        {
            "role": "user",
            "content": (
                f"User: {question[:_EXCERPT_CHARS]}\n\nAssistant: {answer[:_EXCERPT_CHARS]}\n\n"
                "Write a short title for this chat."
            ),
        },
    ]


def clean_title(raw: str) -> str:
    """The first line of the model's answer, without a "Title:" label, quotes or markdown;
    at most TITLE_WORDS words. Empty when nothing usable is left."""
    line = next((ln for ln in raw.splitlines() if ln.strip()), "")
    line = _LABEL.sub("", line).strip(_EDGES)
    line = _SENTENCE_END.split(line, maxsplit=1)[0]
    words = line.split()[:TITLE_WORDS]
    while len(words) > 1 and words[-1].lower().strip(_EDGES) in _DANGLING:
        words.pop()
    title = " ".join(words).strip(_EDGES)
    return title if any(ch.isalnum() for ch in title) else ""


def record_title(store: ConfabStore, conversation_id: UUID, title: str, model: str) -> bool:
    """TitleGenerated, unless the user named the chat, it has a generated title, or it is gone."""
    recorded = False

    def load() -> Conversation:
        conversation: object = store.repository.get(conversation_id)
        assert isinstance(conversation, Conversation)
        return conversation

    def apply(conversation: Conversation) -> None:
        nonlocal recorded
        recorded = conversation.generate_title(title, model)

    try:
        change(store, load, apply)
    except AggregateNotFoundError:
        return False
    return recorded
