"""Reading a ChatGPT export: every branch, parents first, skips counted, bad files named."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from commands.chatgpt_export import load_export, parse_export
from domain.errors import ImportRejected

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "chatgpt" / "conversations.json"


def test_the_fixture_export_reads_as_three_conversations_with_original_times() -> None:
    export = load_export(FIXTURE)

    assert export.source == "chatgpt"
    assert [c.title for c in export.conversations] == [
        "Sourdough starter help",
        "Weekend trip",
        "Lighthouse photo and a chart",
    ]
    sourdough = export.conversations[0]
    assert sourdough.started_at == datetime(2023, 5, 13, 17, 46, 40, tzinfo=UTC)
    assert [(t.original_id, t.role, t.parent) for t in sourdough.turns] == [
        ("u1", "user", None),
        ("a1", "assistant", "u1"),
    ]
    assert sourdough.turns[1].at == datetime(2023, 5, 13, 17, 47, tzinfo=UTC)
    assert sourdough.turns[1].model == "gpt-4"
    assert export.turn_count == 13


def test_every_branch_is_kept_and_the_current_one_comes_last() -> None:
    trip = load_export(FIXTURE).conversations[1]

    order = [t.original_id for t in trip.turns]
    parents = {t.original_id: t.parent for t in trip.turns}

    assert order == ["u2a", "a2a", "u2b", "a2b", "u2c", "a2c"]
    assert parents["u2a"] is None and parents["u2b"] is None  # siblings after the system root
    assert parents["u2c"] == "a2b"
    assert all(order.index(p) < order.index(c) for c, p in parents.items() if p)


def test_system_tool_hidden_and_non_text_messages_are_skipped_and_counted() -> None:
    export = load_export(FIXTURE)
    lighthouse = export.conversations[2]

    assert export.skipped == {
        "system messages": 2,
        "hidden messages": 1,
        "tool calls": 1,
        "tool messages": 1,
        "non-text parts": 2,
    }
    texts = {t.original_id: t.text for t in lighthouse.turns}
    assert texts["u3"] == "What is in this image of a lighthouse?"  # the image part dropped
    assert "a3b" not in texts and "t3" not in texts and "u3c" not in texts
    # A turn whose parent was skipped follows the nearest kept one.
    assert {t.original_id: t.parent for t in lighthouse.turns}["a3c"] == "u3b"
    assert {t.original_id: t.parent for t in lighthouse.turns}["a3d"] == "a3c"


def test_a_zip_export_is_read_from_its_conversations_json(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("chat.html", "<html></html>")
        zf.writestr("conversations.json", FIXTURE.read_bytes())

    assert load_export(archive).turn_count == 13


def test_a_conversation_without_a_title_is_named_after_its_first_message() -> None:
    raw = json.loads(FIXTURE.read_text())[:1]
    raw[0]["title"] = None

    export = parse_export(json.dumps(raw).encode())

    assert export.conversations[0].title == "How do I feed a sourdough starter?"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "not JSON"),
        (b"[not json", "not JSON"),
        (b'{"conversations": []}', "not a ChatGPT export"),
        (b'[{"title": "x"}]', "mapping"),
        (b'[{"title": "x", "mapping": {"n": {"message": {"author": 3}}}}]', "author"),
        (b'[{"mapping": {}, "current_node": "gone"}]', "current_node gone"),
        (b'[{"mapping": {}, "create_time": 1e300}]', "not a time"),
    ],
)
def test_bad_files_are_rejected_with_what_is_wrong(content: bytes, expected: str) -> None:
    with pytest.raises(ImportRejected) as raised:
        parse_export(content, "upload.json")
    assert expected in raised.value.message


def test_missing_files_and_zips_without_the_export_are_rejected(tmp_path: Path) -> None:
    archive = tmp_path / "other.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("notes.txt", "hello")

    with pytest.raises(ImportRejected, match="No file"):
        load_export(tmp_path / "absent.json")
    with pytest.raises(ImportRejected, match=r"without a conversations\.json"):
        load_export(archive)


def test_a_conversation_with_nothing_to_keep_is_skipped_and_counted() -> None:
    raw = json.loads(FIXTURE.read_text())[:1]
    raw[0]["mapping"] = {k: v for k, v in raw[0]["mapping"].items() if k in ("r1", "s1")}
    raw[0]["current_node"] = "s1"

    export = parse_export(json.dumps(raw).encode())

    assert export.conversations == []
    assert export.skipped == {"system messages": 1, "conversations without messages": 1}
