"""Searching one's own history: full text, phrases, filters, snippets, isolation."""

from __future__ import annotations

import psycopg

from confab import bootstrap
from projections.search.port import SearchView
from tests.integration.conftest import Account, Stack
from tests.integration.waiting import eventually
from tests.integration.wsclient import ChatClient


async def search(stack: Stack, account: Account, **params: str) -> dict:
    async with stack.http(account) as http:
        response = await http.get("/api/search", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def caught_up(stack: Stack) -> None:
    """Read your own writes: wait until the search view has indexed the log's head."""
    with psycopg.connect(stack.settings.conninfo()) as conn:
        row = conn.execute("SELECT coalesce(max(notification_id), 0) FROM confab_events")
        head = int(row.fetchone()[0])  # type: ignore[index]
    view = bootstrap.build_search_view(stack.settings, size=1)
    await view.open()
    try:
        await eventually(lambda: _at_least(view, head), timeout=10)
    finally:
        await view.close()


async def _at_least(view: SearchView, position: int) -> bool:
    return await view.position() >= position


async def test_messages_are_found_by_words_and_phrases_with_safe_snippets(
    stack: Stack,
) -> None:
    carol = await stack.register()
    async with ChatClient.connect(stack.ws_url, carol.headers) as client:
        accepted, _, _ = await client.turn("Planning a trip to Lisbon <b>in spring</b> if 1 < 2")
        await client.turn("Something about penguins", conversation_id=accepted["conversation_id"])
    await caught_up(stack)

    words = await search(stack, carol, q="lisbon trip", role="user")
    phrase = await search(stack, carol, q='"trip to Lisbon"', role="user")
    none = await search(stack, carol, q='"Lisbon trip"', role="user")
    users_only = await search(stack, carol, q="penguins", role="user")

    assert words["total"] == 1
    hit = words["hits"][0]
    assert hit["conversation_id"] == accepted["conversation_id"] and hit["role"] == "user"
    assert "<mark>Lisbon</mark>" in hit["snippet"]
    assert hit["snippet"].replace("<mark>", "").replace("</mark>", "").count("<") == 0
    assert phrase["total"] == 1 and none["total"] == 0
    assert users_only["total"] == 1 and users_only["hits"][0]["role"] == "user"


async def test_assistant_replies_are_searchable_and_nobody_sees_another_users_hits(
    stack: Stack, alice: Account, bob: Account
) -> None:
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        await client.turn("What is the capital of France? Answer in one word.")
    await caught_up(stack)
    mine = await search(stack, alice, q="Paris", role="assistant")
    theirs = await search(stack, bob, q="Paris")
    assert mine["total"] >= 1
    assert all(h["role"] == "assistant" and h["bot_name"] == "Assistant" for h in mine["hits"])
    assert theirs["total"] == 0


async def test_the_search_command_answers_in_the_chat(stack: Stack) -> None:
    dana = await stack.register()
    async with ChatClient.connect(stack.ws_url, dana.headers) as client:
        await client.turn("Notes on quaternions")
        await caught_up(stack)
        await client.send("/search quaternions")
        notice, _ = await client.until("notice")
    assert notice["kind"] == "search"
    snippets = [r["snippet"].lower() for r in notice["results"]]
    assert any("<mark>quaternions</mark>" in s for s in snippets)


async def test_bad_search_parameters_are_clear_errors(stack: Stack, alice: Account) -> None:
    async with stack.http(alice) as http:
        empty = await http.get("/api/search", params={"q": ""})
        role = await http.get("/api/search", params={"q": "x", "role": "robot"})
        page = await http.get("/api/search", params={"q": "x", "page": 0})
    assert empty.status_code == 400 and "error" in empty.json()
    assert role.status_code == 422 and role.json()["error"]["field"] == "role"
    assert page.status_code == 400
