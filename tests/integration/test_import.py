"""`confab import chatgpt`: a ChatGPT export becomes one user's history, once, at its own times."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from projections.queries import ReadModels
from tests.integration.conftest import Account, Stack
from tests.integration.test_cli import confab
from tests.integration.test_search import caught_up as search_caught_up
from tests.integration.test_search import search
from tests.integration.waiting import eventually
from tests.integration.wsclient import ChatClient

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "chatgpt" / "conversations.json"


async def caught_up(stack: Stack) -> None:
    """Both views have applied the log's head: the search view and the read models."""
    await search_caught_up(stack)
    read = ReadModels(stack.settings.conninfo(), size=1)
    try:
        head = await asyncio.to_thread(read.head)
        await eventually(lambda: _read_models_at(read, head), timeout=30)
    finally:
        read.close()


async def _read_models_at(read: ReadModels, head: int) -> bool:
    return await asyncio.to_thread(read.position) >= head


async def conversations(stack: Stack, account: Account) -> dict[str, dict]:
    async with stack.http(account) as http:
        response = await http.get("/api/conversations/")
    assert response.status_code == 200, response.text
    return {c["title"]: c for c in response.json()}


async def transcript(stack: Stack, account: Account, conversation_id: str) -> dict:
    async with stack.http(account) as http:
        response = await http.get(f"/api/conversations/{conversation_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_an_export_is_imported_once_with_its_original_times_titles_and_branches(
    stack: Stack,
) -> None:
    erin = await stack.register()

    code, out, err = await confab(stack, "import", "chatgpt", str(FIXTURE), "--user", erin.email)
    assert code == 0, err
    assert "3 conversations, 13 messages to import" in out
    assert "2 system messages" in out and "2 non-text parts" in out
    assert "3 conversations added" in out
    recorded = await stack.event_count()

    code, out, err = await confab(stack, "import", "chatgpt", str(FIXTURE), "--user", erin.email)
    assert code == 0, err
    assert "0 conversations added" in out and "3 already here" in out
    assert await stack.event_count() == recorded  # a re-import records nothing

    await caught_up(stack)
    listed = await conversations(stack, erin)
    trip = listed["Weekend trip"]
    assert set(listed) == {"Sourdough starter help", "Weekend trip", "Lighthouse photo and a chart"}
    assert trip["started_at"].startswith("2023-11-14T22:13:20")
    assert trip["last_activity"].startswith("2023-11-14T22:18:30")
    assert [listed[t]["message_count"] for t in sorted(listed)] == [5, 2, 6]

    body = await transcript(stack, erin, trip["id"])
    by_text = {m["text"]: m for m in body["messages"]}
    lisbon, porto = by_text["Plan a weekend in Lisbon"], by_text["Plan a weekend in Porto"]
    assert lisbon["created_at"].startswith("2023-11-14T22:13:30")
    assert lisbon["parent_id"] is None and porto["parent_id"] is None  # the edit: a branch
    assert body["leaf_id"] == by_text["Try a francesinha near the river."]["id"]
    code, _, err = await confab(stack, "replay", "--check", "--quiet")
    assert code == 0, err  # views rebuilt from the log hold the imports as the live ones do


async def test_imported_history_is_searchable_at_its_time_and_only_by_its_owner(
    stack: Stack, bob: Account
) -> None:
    fay = await stack.register()
    code, _, err = await confab(stack, "import", "chatgpt", str(FIXTURE), "--user", fay.email)
    assert code == 0, err
    await caught_up(stack)

    found = await search(stack, fay, q="francesinha")
    old = await search(stack, fay, q="lighthouse", until="2024-12-31T00:00:00Z")
    theirs = await search(stack, bob, q="francesinha")

    assert found["total"] == 1
    assert found["hits"][0]["role"] == "assistant"
    assert found["hits"][0]["created_at"].startswith("2023-11-14T22:18:30")
    assert old["total"] == 3  # two messages and an answer of July 2024
    assert theirs["total"] == 0
    async with stack.http(bob) as http:
        listed = await http.get("/api/conversations/")
        peek = await http.get(f"/api/conversations/{found['hits'][0]['conversation_id']}")
    assert all(c["title"] != "Weekend trip" for c in listed.json())
    assert peek.status_code == 404


async def test_an_imported_conversation_continues_from_its_current_branch(stack: Stack) -> None:
    gus = await stack.register()
    code, _, err = await confab(stack, "import", "chatgpt", str(FIXTURE), "--user", gus.email)
    assert code == 0, err
    await caught_up(stack)
    trip = (await conversations(stack, gus))["Weekend trip"]

    async with ChatClient.connect(stack.ws_url, gus.headers) as client:
        accepted, final, _ = await client.turn("Thanks! Say ok.", conversation_id=trip["id"])

    assert final["type"] == "message", final
    body = await transcript(stack, gus, trip["id"])
    by_id = {m["id"]: m for m in body["messages"]}
    assert by_id[accepted["message_id"]]["parent_id"] == next(
        m["id"] for m in body["messages"] if m["text"] == "Try a francesinha near the river."
    )


async def test_bad_files_and_unknown_users_are_refused_and_record_nothing(
    stack: Stack, alice: Account, tmp_path: Path
) -> None:
    not_json = tmp_path / "conversations.json"
    not_json.write_text("<html>nope</html>")
    wrong_shape = tmp_path / "wrong.json"
    wrong_shape.write_text(json.dumps([{"title": "no mapping"}]))
    before = await stack.event_count()

    results = [
        await confab(stack, "import", "chatgpt", str(not_json), "--user", alice.email),
        await confab(stack, "import", "chatgpt", str(wrong_shape), "--user", alice.email),
        await confab(stack, "import", "chatgpt", str(tmp_path / "absent.json"), "--user", "x@y.z"),
        await confab(stack, "import", "chatgpt", str(FIXTURE), "--user", "nobody@example.com"),
    ]

    assert [code for code, _, _ in results] == [1, 1, 1, 1]
    assert "is not JSON" in results[0][2]
    assert "not a ChatGPT export" in results[1][2] and "mapping" in results[1][2]
    assert "No file" in results[2][2]
    assert "nobody@example.com" in results[3][2]
    assert await stack.event_count() == before


async def test_a_sharegpt_file_is_imported_once_as_linear_conversations(stack: Stack) -> None:
    hal = await stack.register()
    sharegpt = FIXTURE.parent.parent / "sharegpt" / "sharegpt.json"

    first = await confab(stack, "import", "sharegpt", str(sharegpt), "--user", hal.email)
    recorded = await stack.event_count()
    again = await confab(stack, "import", "sharegpt", str(sharegpt), "--user", hal.email)

    assert first[0] == 0 and "2 conversations added" in first[1], first[2]
    assert again[0] == 0 and "2 already here" in again[1], again[2]
    assert await stack.event_count() == recorded
    await caught_up(stack)
    listed = await conversations(stack, hal)
    knots = listed["Which knot should I use to tie a boat to a cleat?"]
    assert knots["message_count"] == 4
    body = await transcript(stack, hal, knots["id"])
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user", "assistant"]
    assert body["leaf_id"] == body["messages"][-1]["id"]


async def test_imported_messages_count_in_analytics_on_their_own_days(stack: Stack) -> None:
    admin, ivy = await stack.register(), await stack.register()
    code, _, err = await confab(stack, "admin", "grant", admin.email)
    assert code == 0, err
    day = {"since": "2023-11-14T00:00:00Z", "until": "2023-11-15T00:00:00Z"}

    async def analytics() -> dict:
        async with stack.http(admin) as http:
            response = await http.get("/api/admin/analytics", params=day)
        assert response.status_code == 200, response.text
        return dict(response.json())

    await caught_up(stack)
    before = await analytics()
    code, _, err = await confab(stack, "import", "chatgpt", str(FIXTURE), "--user", ivy.email)
    assert code == 0, err
    await caught_up(stack)
    after = await analytics()

    assert after["messages"] - before["messages"] == 6  # the weekend trip, both branches
    assert after["active_users"] - before["active_users"] == 1
    assert [d["day"][:10] for d in after["days"]] == ["2023-11-14"]


async def test_two_imports_of_the_same_export_at_once_record_it_once(stack: Stack) -> None:
    jo = await stack.register()
    before = await stack.event_count()

    results = await asyncio.gather(
        *(confab(stack, "import", "chatgpt", str(FIXTURE), "--user", jo.email) for _ in range(2))
    )

    assert [code for code, _, _ in results] == [0, 0], [err for _, _, err in results]
    assert await stack.event_count() - before == 3 + 13  # three Started, thirteen TurnRecorded
