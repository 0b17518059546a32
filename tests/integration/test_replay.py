"""`confab replay`: rebuilt views equal the live ones, a drifted view is caught and repaired."""

from __future__ import annotations

import psycopg

from tests.integration.conftest import Account, Stack
from tests.integration.test_cli import confab
from tests.integration.test_search import caught_up, search
from tests.integration.waiting import eventually
from tests.integration.wsclient import ChatClient


async def chat_a_little(stack: Stack, account: Account) -> None:
    async with ChatClient.connect(stack.ws_url, account.headers) as client:
        accepted, reply, _ = await client.turn("Tell me about the albatross")
        await client.turn("And the petrel?", conversation_id=accepted["conversation_id"])
        await client.frame(
            type="feedback",
            conversation_id=accepted["conversation_id"],
            response_id=reply["response_id"],
            rating=1,
            comment="",
        )

        async def rated() -> bool:
            return "FeedbackGiven" in stack.stored_events(accepted["conversation_id"])

        await eventually(rated)
    await caught_up(stack)


async def test_replay_check_finds_rebuilt_views_equal_to_the_live_ones(
    stack: Stack, alice: Account
) -> None:
    await chat_a_little(stack, alice)

    code, out, err = await confab(stack, "replay", "--check", "--quiet")

    assert code == 0, err
    assert "search (postgres)" in out and "read models" in out
    assert "DIFFERS" not in err


async def test_a_drifted_view_fails_the_check_and_a_replay_repairs_it(
    stack: Stack, alice: Account
) -> None:
    await chat_a_little(stack, alice)
    with psycopg.connect(stack.settings.conninfo(), autocommit=True) as conn:
        conn.execute(
            "UPDATE search_messages SET text = 'tampered' WHERE message_id ="
            " (SELECT message_id FROM search_messages WHERE text LIKE '%%albatross%%' LIMIT 1)"
        )
        conn.execute("UPDATE rm_conversations SET title = 'tampered'")

    drifted, _, drift = await confab(stack, "replay", "--check", "--quiet")
    rebuilt, out, err = await confab(stack, "replay", "--quiet")
    again, _, _ = await confab(stack, "replay", "--check", "--quiet")

    assert drifted == 1 and "search" in drift and "rm_conversations" in drift
    assert rebuilt == 0, err
    assert "rebuilt and switched" in out
    assert again == 0
    found = await search(stack, alice, q="albatross", role="user")
    assert found["total"] >= 1
    async with stack.http(alice) as http:
        titles = [c["title"] for c in (await http.get("/api/conversations")).json()]
    assert "tampered" not in titles
    await chat_a_little(stack, alice)  # the live projectors go on into the swapped-in views
    assert (await search(stack, alice, q="petrel", role="user"))["total"] >= 2
