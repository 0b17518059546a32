"""Reading a ShareGPT file: linear turns, roles mapped, skips counted, cut-off files on request."""

from __future__ import annotations

from pathlib import Path

import pytest

from commands.sharegpt_export import load_sharegpt, parse_sharegpt
from domain.errors import ImportRejected

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "sharegpt" / "sharegpt.json"


def test_a_sharegpt_file_reads_as_linear_conversations_named_after_their_first_question() -> None:
    export = load_sharegpt(FIXTURE)

    assert export.source == "sharegpt"
    knots, words = export.conversations
    assert knots.original_id == "kX9fQ2a_0"
    assert knots.title == "Which knot should I use to tie a boat to a cleat?"
    assert [(t.role, t.parent) for t in knots.turns] == [
        ("user", None),
        ("assistant", "1"),
        ("user", "2"),
        ("assistant", "3"),
    ]
    assert all(t.at is None for t in knots.turns)  # ShareGPT keeps no times
    assert [t.text for t in words.turns][1] == "Bom dia."
    assert export.skipped == {
        "system messages": 1,
        "empty messages": 1,
        "conversations without messages": 1,
    }


def test_a_file_cut_off_mid_conversation_is_refused_unless_asked_to_keep_what_is_complete() -> None:
    cut = FIXTURE.read_bytes()[: FIXTURE.read_bytes().index(b"Bom dia")]

    with pytest.raises(ImportRejected, match="not JSON"):
        parse_sharegpt(cut)
    export = parse_sharegpt(cut, allow_truncated=True)

    assert [c.original_id for c in export.conversations] == ["kX9fQ2a_0"]
    assert export.skipped["conversations cut off at the end of the file"] == 1


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{}", "not a ShareGPT file"),
        (b'[{"id": "a", "conversations": [{"from": "human"}]}]', "value"),
        (b"nope", "not JSON"),
    ],
)
def test_bad_sharegpt_files_are_rejected_with_what_is_wrong(content: bytes, expected: str) -> None:
    with pytest.raises(ImportRejected) as raised:
        parse_sharegpt(content)
    assert expected in raised.value.message
