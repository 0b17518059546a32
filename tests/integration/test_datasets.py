"""Datasets from a live log: chat on the running stack, then `confab dataset build` twice."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from tests.integration.conftest import Account, Stack
from tests.integration.test_cli import confab
from tests.integration.wsclient import ChatClient


def completed_events(stack: Stack, conversation_id: str) -> list[dict]:
    with psycopg.connect(stack.settings.conninfo()) as conn:
        rows = conn.execute(
            "SELECT state FROM confab_events WHERE originator_id = %s "
            "AND topic LIKE '%%.ResponseCompleted' ORDER BY originator_version",
            (conversation_id,),
        ).fetchall()
    return [json.loads(bytes(row[0])) for row in rows]


async def test_every_response_records_its_model_version_and_prompt_turns(
    stack: Stack, alice: Account
) -> None:
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        first, _, _ = await client.turn("My name is Ada. Reply with OK.")
        second, _, _ = await client.turn(
            "What is my name?", conversation_id=first["conversation_id"]
        )

    completed = completed_events(stack, first["conversation_id"])

    assert [c["class_version"] for c in completed] == [2, 2]
    assert all(c["model_version"] for c in completed)
    assert completed[0]["prompt_turn_ids"] == [first["message_id"]]
    assert completed[1]["prompt_turn_ids"] == [
        first["message_id"],
        first["response_id"],
        second["message_id"],
    ]


async def test_dataset_build_from_the_log_is_byte_identical_twice(
    stack: Stack, alice: Account, tmp_path: Path
) -> None:
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        accepted, reply, _ = await client.turn("Write the word yes. My mail is ada@example.com")
        await client.frame(
            type="feedback",
            conversation_id=accepted["conversation_id"],
            response_id=accepted["response_id"],
            rating=1,
            comment="good",
        )
        await client.until("notice", "error")
    await stack.event_count()  # every asked-for response has its outcome
    with psycopg.connect(stack.settings.conninfo()) as conn:
        row = conn.execute("SELECT max(notification_id) FROM confab_events").fetchone()
    until = str(row[0]) if row else "0"

    runs = []
    for name in ("a", "b"):
        code, _, err = await confab(
            stack, "dataset", "build", "--out", str(tmp_path / name), "--until", until
        )
        assert code == 0, err
        runs.append(tmp_path / name)
    bad_code, _, bad_err = await confab(stack, "dataset", "build", "--until", "last tuesday")

    files = sorted(p.name for p in runs[0].iterdir())
    assert files == ["examples-00000.jsonl", "examples-00000.parquet", "manifest.json"]
    for name in files:
        assert (runs[0] / name).read_bytes() == (runs[1] / name).read_bytes(), name
    manifest = json.loads((runs[0] / "manifest.json").read_text())
    assert manifest["positions"]["until"] == int(until)
    rows = [
        json.loads(line) for line in (runs[0] / "examples-00000.jsonl").read_text().splitlines()
    ]
    mine = next(r for r in rows if r["example_id"] == accepted["response_id"])
    assert mine["rating"] == 1 and mine["prompt_source"] == "recorded"
    assert mine["messages"][-2]["content"] == "Write the word yes. My mail is [email]"
    assert mine["messages"][-1]["content"] == reply["text"]
    assert mine["messages"][0]["role"] == "system" and mine["model_version"]
    assert bad_code == 2 and "--until" in bad_err
