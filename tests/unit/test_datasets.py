"""The dataset projection over an in-memory event store: examples, filters, files, bytes."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from commands.app import ConfabStore
from domain.conversation import Completion, Conversation, ResponseSettings
from projections.dataset_files import read_rows, sha256_of
from projections.datasets import Filters
from projections.scrub import scrub
from workers.dataset_build import Until, build

PERSONA = "You are Helper. Be brief."
SETTINGS = ResponseSettings("bot-1", "Helper", "SmolLM2", PERSONA, {"temperature": 0.0})


def memory_store() -> ConfabStore:
    return ConfabStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def answer(conv: Conversation, response_id: uuid.UUID, text: str, max_turns: int = 20) -> None:
    turns = conv.prompt_turns(response_id, max_turns)
    conv.complete_response(
        response_id,
        Completion(
            text, "stop", 10, 3, "SmolLM2", 1.0, 2.0, "v-test", tuple(str(t.id) for t in turns)
        ),
    )


def chat(
    store: ConfabStore, user: str, exchanges: list[tuple[str, str]], max_turns: int = 20
) -> Conversation:
    conv = Conversation(id=uuid.uuid4(), user_id=user, title="t", bot_id="bot-1")
    for i, (question, reply) in enumerate(exchanges):
        _, response_id = conv.post_message(user, f"c{i}", question, {}, SETTINGS)
        answer(conv, response_id, reply, max_turns)
    store.save(conv)
    return conv


def rows_of(store: ConfabStore, tmp_path: Path, filters: Filters | None = None) -> list[dict]:
    folder, _ = build(
        store, tmp_path / "ds", tmp_path, filters or Filters(), Until(), progress=False
    )
    return read_rows(folder)


def test_an_example_is_the_prompt_the_model_saw_then_its_response(tmp_path: Path) -> None:
    store = memory_store()
    chat(store, "u1", [("Hi", "Hello!"), ("What is 2+2?", "4"), ("And 3+3?", "6")], max_turns=3)

    rows = rows_of(store, tmp_path)

    assert [r["messages"][-1]["content"] for r in rows] == ["Hello!", "4", "6"]
    last = rows[-1]
    # The worker kept the newest 3 turns: the first exchange fell out of the prompt.
    assert last["messages"] == [
        {"role": "system", "content": PERSONA},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "And 3+3?"},
        {"role": "assistant", "content": "6"},
    ]
    assert last["prompt_source"] == "recorded" and last["model_version"] == "v-test"
    assert last["event_positions"] == sorted(last["event_positions"])
    assert len(last["event_positions"]) == 5  # 3 history turns, the request and the completion


def test_feedback_filters_and_scrubbing(tmp_path: Path) -> None:
    store = memory_store()
    conv = chat(
        store,
        "u1",
        [("Mail me at ann@example.com", "Sure, call +1 (555) 123-4567"), ("x", "bad"), ("y", "ok")],
    )
    responses = [t.id for t in conv.turns if t.role == "assistant"]
    conv.give_feedback(responses[0], 1, "great", "u1")
    conv.give_feedback(responses[1], -1, "", "u1")
    store.save(conv)

    kept = rows_of(store, tmp_path)
    liked = rows_of(store, tmp_path, Filters(only_liked=True))
    everything = rows_of(store, tmp_path, Filters(drop_disliked=False))
    long_only = rows_of(store, tmp_path, Filters(min_response_chars=5))

    assert [r["messages"][-1]["content"] for r in kept] == ["Sure, call [phone]", "ok"]
    assert kept[0]["messages"][1]["content"] == "Mail me at [email]"
    assert [r["rating"] for r in liked] == [1] and liked[0]["feedback_comment"] == "great"
    assert len(everything) == 3
    assert [r["messages"][-1]["content"] for r in long_only] == ["Sure, call [phone]"]


def test_duplicates_and_deleted_conversations_are_dropped(tmp_path: Path) -> None:
    store = memory_store()
    chat(store, "u1", [("Hi", "Hello!")])
    chat(store, "u2", [("Hi", "Hello!")])
    gone = chat(store, "u3", [("Secret", "Gone")])
    gone.delete("u3")
    store.save(gone)

    folder, manifest = build(store, tmp_path / "ds", tmp_path, Filters(), Until(), progress=False)

    assert [r["messages"][-1]["content"] for r in read_rows(folder)] == ["Hello!"]
    assert manifest["counts"]["dropped"] == {"deleted": 1, "duplicate": 1}
    assert len(read_rows(folder)) == 1
    no_dedup = rows_of(store, tmp_path, Filters(deduplicate=False))
    assert len(no_dedup) == 2


def test_imported_turns_become_examples_of_their_assistant_turns(tmp_path: Path) -> None:
    store = memory_store()
    conv = Conversation(id=uuid.uuid4(), user_id="u1", title="import", bot_id="")
    conv.record_turn("user", "Name a colour", "chatgpt", "u1")
    conv.record_turn("assistant", "Blue", "chatgpt", "u1")
    conv.record_turn("user", "Another", "chatgpt", "u1")
    conv.record_turn("assistant", "Green", "chatgpt", "u1")
    store.save(conv)

    rows = rows_of(store, tmp_path)
    skipped = rows_of(store, tmp_path, Filters(include_imported=False))

    assert [r["source"] for r in rows] == ["import", "import"]
    assert [m["content"] for m in rows[1]["messages"]] == [
        "Name a colour",
        "Blue",
        "Another",
        "Green",
    ]
    assert skipped == []


def test_building_twice_gives_byte_identical_files(tmp_path: Path) -> None:
    store = memory_store()
    for user in ("u1", "u2", "u3", "u4"):
        chat(store, user, [(f"Hi from {user}", "Hello!"), ("Tell me more", f"More for {user}")])

    first, m1 = build(
        store, tmp_path / "a", tmp_path, Filters(), Until(), progress=False, shard_rows=3
    )
    second, _ = build(
        store, tmp_path / "b", tmp_path, Filters(), Until(), progress=False, shard_rows=3
    )

    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    assert "examples-00002.parquet" in names and "manifest.json" in names
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert m1["counts"]["examples"] == 8
    entry = m1["files"][0]
    assert entry["sha256"] == sha256_of(first / entry["path"])
    jsonl = [json.loads(line) for line in (first / "examples-00000.jsonl").read_text().splitlines()]
    assert jsonl == read_rows(first)[:3]


def test_until_a_position_leaves_out_later_events(tmp_path: Path) -> None:
    store = memory_store()
    chat(store, "u1", [("one", "first")])
    bound = store.recorder.max_notification_id()
    chat(store, "u2", [("two", "second")])

    folder, manifest = build(
        store, None, tmp_path, Filters(), Until(position=bound), progress=False
    )

    assert folder == tmp_path / "datasets" / f"log-{bound}"
    assert [r["messages"][-1]["content"] for r in read_rows(folder)] == ["first"]
    assert manifest["positions"] == {"from": 1, "until": bound}


def test_until_must_be_a_position_or_a_zoned_time() -> None:
    assert Until.parse("42") == Until(position=42)
    assert Until.parse("2026-11-24T12:00:00+00:00").time is not None
    with pytest.raises(ValueError, match="position"):
        Until.parse("yesterday")
    with pytest.raises(ValueError, match="time zone"):
        Until.parse("2026-11-24T12:00:00")


def test_scrub_keeps_dates_and_decimals() -> None:
    assert (
        scrub("on 2026-11-24 pi is 3.14159265, order 42")
        == "on 2026-11-24 pi is 3.14159265, order 42"
    )
    assert scrub("bob.smith@example.co.uk / 0049 30 1234567") == "[email] / [phone]"


def test_an_imported_branch_is_the_prompt_of_its_own_answers(tmp_path: Path) -> None:
    """An edited first message (a second root) does not carry the first branch along."""
    store = memory_store()
    conv = Conversation(id=uuid.uuid4(), user_id="u1", title="import", bot_id="")
    lisbon = conv.record_turn("user", "Plan Lisbon", "chatgpt", "u1", original_id="u1")
    conv.record_turn("assistant", "Alfama", "chatgpt", "u1", original_id="a1", parent_id=lisbon)
    porto = conv.record_turn("user", "Plan Porto", "chatgpt", "u1", original_id="u2", at_root=True)
    conv.record_turn("assistant", "Ribeira", "chatgpt", "u1", original_id="a2", parent_id=porto)
    store.save(conv)

    rows = rows_of(store, tmp_path)

    assert [[m["content"] for m in r["messages"]] for r in rows] == [
        ["Plan Lisbon", "Alfama"],
        ["Plan Porto", "Ribeira"],
    ]


def test_an_imported_answer_with_no_question_before_it_is_no_example(tmp_path: Path) -> None:
    store = memory_store()
    conv = Conversation(id=uuid.uuid4(), user_id="u1", title="import", bot_id="")
    conv.record_turn("assistant", "Continuing from before: step two.", "sharegpt", "u1")
    conv.record_turn("user", "And step three?", "sharegpt", "u1")
    conv.record_turn("assistant", "Step three is to rest.", "sharegpt", "u1")
    store.save(conv)

    rows = rows_of(store, tmp_path)

    assert [r["messages"][-1]["content"] for r in rows] == ["Step three is to rest."]


def test_a_completion_that_did_not_record_its_prompt_gets_it_rebuilt(tmp_path: Path) -> None:
    """v1 completions (no prompt_turn_ids): the worker's choice is rebuilt, newest turns kept."""
    store = memory_store()
    conv = Conversation(id=uuid.uuid4(), user_id="u1", title="t", bot_id="bot-1")
    for i, (question, reply) in enumerate([("a", "A"), ("b", "B"), ("c", "C")]):
        _, response_id = conv.post_message("u1", f"c{i}", question, {}, SETTINGS)
        conv.complete_response(response_id, Completion(reply, "stop", 1, 1, "m", 1.0, 1.0))
    store.save(conv)

    rows = rows_of(store, tmp_path, Filters(max_history_turns=3))

    assert rows[-1]["prompt_source"] == "reconstructed"
    assert [m["content"] for m in rows[-1]["messages"]] == [PERSONA, "b", "B", "c", "C"]
    assert rows[-1]["model_version"] == ""
