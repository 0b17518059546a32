"""Request parsing, table-driven: commands, mentions, entities and intent."""

from __future__ import annotations

import pytest

from commands.parsing import parse

CASES = [
    # text, command, argument, mentions, intent, bot text
    ("What is the capital of France?", None, "", (), "question", "What is the capital of France?"),
    ("how do I sort a list", None, "", (), "question", "how do I sort a list"),
    ("Write a haiku about rain", None, "", (), "instruction", "Write a haiku about rain"),
    ("please list three colours", None, "", (), "instruction", "please list three colours"),
    ("hello there!", None, "", (), "chit-chat", "hello there!"),
    ("/bot tutor", "bot", "tutor", ("tutor",), "command", ""),
    (
        "/bot coder fix my loop",
        "bot",
        "coder fix my loop",
        ("coder",),
        "instruction",
        "fix my loop",
    ),
    ("/new", "new", "", (), "command", "/new"),
    ("/help", "help", "", (), "command", "/help"),
    ("/search paris trip", "search", "paris trip", (), "command", "/search paris trip"),
    ("/unknown thing", None, "", (), "chit-chat", "/unknown thing"),
    ("@tutor what is a prime?", None, "", ("tutor",), "question", "what is a prime?"),
    ("ask @terse-coder and @tutor", None, "", ("terse-coder", "tutor"), "chit-chat", None),
    ("mail me at ann@example.com", None, "", (), "instruction", None),
]


@pytest.mark.parametrize(("text", "command", "argument", "mentions", "intent", "body"), CASES)
def test_parse(
    text: str, command: str | None, argument: str, mentions: tuple, intent: str, body: str | None
) -> None:
    parsed = parse(text)
    assert parsed.command == command
    assert parsed.argument == argument
    assert parsed.mentions == mentions
    assert parsed.intent == intent
    if body is not None:
        assert parsed.text == body


ENTITY_CASES = [
    ("see https://example.org/a?b=1.", [("url", "https://example.org/a?b=1")]),
    ("write to ann.lee@example.co.uk", [("email", "ann.lee@example.co.uk")]),
    (
        "due 2025-03-12 or 12 March 2025 or tomorrow",
        [("date", "2025-03-12"), ("date", "12 March 2025"), ("date", "tomorrow")],
    ),
    ("it costs 3.50 or 12%", [("number", "3.50"), ("number", "12%")]),
    ("run `ls -la` now", [("code", "ls -la")]),
    ("```py\nprint('https://x.org')\n```", [("code", "print('https://x.org')")]),
    ("no entities here", []),
]


@pytest.mark.parametrize(("text", "expected"), ENTITY_CASES)
def test_entities(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(e.kind, e.value) for e in parse(text).entities] == expected


def test_the_parse_is_recorded_as_plain_data() -> None:
    recorded = parse("@tutor explain 2+2 by tomorrow?").as_dict()
    assert recorded["mentions"] == ["tutor"]
    assert recorded["intent"] == "question"
    assert {"kind": "date", "value": "tomorrow"}.items() <= recorded["entities"][-1].items()
