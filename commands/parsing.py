"""Request parsing: slash commands, @mentions, entities and an intent label for each message.

Pure functions over the text; the result is recorded on MessagePosted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

COMMANDS = ("bot", "new", "help", "search")

_COMMAND = re.compile(r"^/(?P<name>[a-zA-Z]+)\b[ \t]*(?P<arg>.*)$", re.DOTALL)
_MENTION = re.compile(r"(?<![\w@.])@(?P<name>[A-Za-z][\w-]{0,39})")
_FENCED = re.compile(r"```(?P<lang>[\w+-]*)\n?(?P<code>.*?)```", re.DOTALL)
_INLINE_CODE = re.compile(r"`(?P<code>[^`\n]+)`")
_URL = re.compile(r"\bhttps?://[^\s<>\"'`]+[^\s<>\"'`.,;:!?)\]]")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DATE = re.compile(
    r"\b(?:\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}"
    rf"|\d{{1,2}} (?:{_MONTHS})\.?(?: \d{{4}})?"
    rf"|(?:{_MONTHS})\.? \d{{1,2}}(?:st|nd|rd|th)?(?:,? \d{{4}})?"
    r"|today|tomorrow|yesterday)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"(?<![\w.-])-?\d+(?:[.,]\d+)*(?:\.\d+)?%?(?![\w-])")

_QUESTION_START = re.compile(
    r"^(?:who|what|when|where|why|how|which|whose|whom|is|are|was|were|do|does|did|can|could|"
    r"would|should|will|shall|may|might|have|has|had|am)\b",
    re.IGNORECASE,
)
_INSTRUCTION_START = re.compile(
    r"^(?:please\b|write|explain|list|give|make|create|translate|summari[sz]e|show|tell|fix|"
    r"generate|draft|describe|compare|convert|calculate|find|help|rewrite|refactor|implement|"
    r"design|plan|suggest|name|define|count|sort|add|remove|build|outline|review|correct|"
    r"e?mail|send|remind|check|edit|format)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Entity:
    kind: str  # url | email | code | number | date
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class ParsedMessage:
    text: str  # what the bot is asked: the message without a leading command or mention
    command: str | None = None
    argument: str = ""
    mentions: tuple[str, ...] = ()
    entities: tuple[Entity, ...] = field(default=())
    intent: str = "chit-chat"  # question | instruction | chit-chat | command

    def as_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "argument": self.argument,
            "mentions": list(self.mentions),
            "entities": [
                {"kind": e.kind, "value": e.value, "start": e.start, "end": e.end}
                for e in self.entities
            ],
            "intent": self.intent,
        }


def parse(text: str) -> ParsedMessage:
    stripped = text.strip()
    command, argument = _command(stripped)
    mentions = tuple(dict.fromkeys(m.group("name").lower() for m in _MENTION.finditer(text)))
    body = argument if command == "bot" else stripped
    if command == "bot":
        name, _, rest = argument.partition(" ")
        mentions = (name.lower().lstrip("@"), *mentions) if name else mentions
        body = rest.strip()
    elif command is None and mentions:
        body = _MENTION.sub("", stripped, count=1).strip() if stripped.startswith("@") else stripped
    return ParsedMessage(
        text=body,
        command=command,
        argument=argument,
        mentions=mentions,
        entities=tuple(entities(text)),
        intent=intent_of(body) if command is None or (command == "bot" and body) else "command",
    )


def _command(text: str) -> tuple[str | None, str]:
    match = _COMMAND.match(text)
    if not match or match.group("name").lower() not in COMMANDS:
        return None, ""
    return match.group("name").lower(), match.group("arg").strip()


def entities(text: str) -> list[Entity]:
    found: list[Entity] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, match: re.Match[str], group: str = "0") -> None:
        start, end = match.span()
        if any(s < end and start < e for s, e in taken):
            return  # inside something already found (a URL inside code, a number in a date)
        taken.append((start, end))
        value = match.group(group) if group != "0" else match.group(0)
        found.append(Entity(kind, value.strip(), start, end))

    for match in _FENCED.finditer(text):
        add("code", match, "code")
    for match in _INLINE_CODE.finditer(text):
        add("code", match, "code")
    for kind, pattern in (("url", _URL), ("email", _EMAIL), ("date", _DATE), ("number", _NUMBER)):
        for match in pattern.finditer(text):
            add(kind, match)
    return sorted(found, key=lambda e: e.start)


def intent_of(text: str) -> str:
    body = _FENCED.sub(" ", text).strip()
    if not body:
        return "instruction" if text.strip() else "chit-chat"
    first_sentence = re.split(r"(?<=[.!?])\s", body, maxsplit=1)[0]
    if body.rstrip().endswith("?") or _QUESTION_START.match(body):
        return "question"
    if _INSTRUCTION_START.match(first_sentence) or re.search(r"\bplease\b", body, re.IGNORECASE):
        return "instruction"
    return "chit-chat"
