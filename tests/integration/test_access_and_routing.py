"""Users see only their own things; messages reach the bot they are routed to."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import psycopg

from commands import chat
from commands.routing import BotChoice
from confab import bootstrap
from tests.integration.conftest import Account, Stack
from tests.integration.test_cli import confab
from tests.integration.waiting import eventually
from tests.integration.wsclient import ChatClient


def requested_events(stack: Stack, conversation_id: str) -> list[dict]:
    with psycopg.connect(stack.settings.conninfo()) as conn:
        rows = conn.execute(
            "SELECT topic, convert_from(state, 'UTF8') FROM confab_events"
            " WHERE originator_id = %s ORDER BY originator_version",
            (conversation_id,),
        ).fetchall()
    return [
        {"name": topic.rsplit(".", 1)[-1], **json.loads(state)}
        for topic, state in rows
        if topic.endswith(("ResponseRequested", "MessagePosted", "BotSwitched"))
    ]


async def test_a_mention_reaches_that_bots_persona_in_the_prompt(
    stack: Stack, alice: Account
) -> None:
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        accepted, final, _ = await client.turn("@tutor What is a prime number?")
    assert final["type"] == "message"
    posted, requested = requested_events(stack, accepted["conversation_id"])
    assert requested["bot_name"] == "Patient Tutor"
    assert requested["system_prompt"].startswith("You are Patient Tutor.")
    assert "patient, encouraging, socratic" in requested["system_prompt"]
    assert posted["user_id"] == alice.user_id
    assert posted["parsed"]["mentions"] == ["tutor"]
    assert posted["parsed"]["intent"] == "question"


async def test_slash_bot_switches_the_conversation_and_records_it(
    stack: Stack, alice: Account
) -> None:
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        accepted, _, _ = await client.turn("Say hi.")
        conversation_id = accepted["conversation_id"]
        await client.send("/bot coder", conversation_id=conversation_id)
        notice, _ = await client.until("notice", "error")
        _, final, _ = await client.turn("Print hello in Python.", conversation_id=conversation_id)
    assert notice["kind"] == "bot" and "Terse Coder" in notice["text"]
    assert final["type"] == "message"
    events = requested_events(stack, conversation_id)
    assert [e["name"] for e in events] == [
        "MessagePosted",
        "ResponseRequested",
        "BotSwitched",
        "MessagePosted",
        "ResponseRequested",
    ]
    assert events[-1]["bot_name"] == "Terse Coder"
    async with stack.http(alice) as http:
        listed = {c["id"]: c for c in (await http.get("/api/conversations")).json()}
    assert listed[conversation_id]["bot_name"] == "Terse Coder"


async def test_a_new_chat_can_be_started_with_a_chosen_bot(stack: Stack, alice: Account) -> None:
    async with stack.http(alice) as http:
        story = next(b for b in (await http.get("/api/bots")).json() if b["name"] == "Storyteller")
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        await client.send("A one-line story, please.", bot_id=story["id"])
        accepted, _ = await client.until("accepted")
        await client.until("message", "error")
    assert requested_events(stack, accepted["conversation_id"])[1]["bot_name"] == "Storyteller"


async def test_nobody_reads_or_writes_another_users_conversation(
    stack: Stack, alice: Account, bob: Account
) -> None:
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        accepted, _, _ = await client.turn("Alice's secret plan.")
    conversation_id = accepted["conversation_id"]
    before = await stack.event_count()
    async with stack.http(bob) as http:
        transcript = await http.get(f"/api/conversations/{conversation_id}")
        mine = (await http.get("/api/conversations")).json()
    async with ChatClient.connect(stack.ws_url, bob.headers) as client:
        await client.send("I am in.", conversation_id=conversation_id)
        error, _ = await client.until("error", "accepted")
        await client.send("/bot coder", conversation_id=conversation_id)
        switch, _ = await client.until("error", "notice")
    assert transcript.status_code == 404
    assert "secret" not in transcript.text
    assert conversation_id not in {c["id"] for c in mine}
    assert error["type"] == "error" and error["code"] == "conversation_not_found"
    assert switch["type"] == "error" and switch["code"] == "conversation_not_found"
    assert await stack.event_count() == before


async def test_a_private_bot_is_invisible_and_unchangeable_to_others(
    stack: Stack, alice: Account, bob: Account
) -> None:
    async with stack.http(alice) as http:
        body = {"name": "Alice Only", "visibility": "private"}
        private = (await http.post("/api/bots", json=body)).json()
    async with stack.http(bob) as http:
        gallery = {b["id"] for b in (await http.get("/api/bots")).json()}
        one = await http.get(f"/api/bots/{private['id']}")
        edit = await http.patch(f"/api/bots/{private['id']}", json={"name": "Mine now"})
        archive = await http.delete(f"/api/bots/{private['id']}")
        default = await http.put("/api/me/default-bot", json={"bot_id": private["id"]})
        avatar = await http.get(f"/api/bots/{private['id']}/avatar")
        customize = await http.put(
            f"/api/bots/{private['id']}/customization", json={"name": "Peek"}
        )
    async with ChatClient.connect(stack.ws_url, bob.headers) as client:
        await client.send("hello", bot_id=private["id"])
        refused, _ = await client.until("error", "accepted")
        await client.send("@alice-only hello")
        mention, _ = await client.until("accepted")
        await client.until("message", "error")
    assert private["id"] not in gallery
    statuses = [one, edit, archive, default, avatar, customize]
    assert [r.status_code for r in statuses] == [404] * len(statuses)
    assert all("Alice Only" not in r.text for r in statuses)
    assert refused["code"] == "bot_not_found"
    events = requested_events(stack, mention["conversation_id"])
    assert events[1]["bot_name"] == "Assistant"  # the mention matched nothing Bob can use


async def test_every_read_endpoint_refuses_anonymous_callers(stack: Stack) -> None:
    async with stack.http() as http:
        for path in ("/api/me", "/api/bots", "/api/conversations", "/api/me/tokens"):
            response = await http.get(path)
            assert response.status_code == 401, path
            assert response.json()["error"]["code"] == "not_authenticated"


async def test_admin_endpoints_need_the_admin_role_granted_by_the_cli(stack: Stack) -> None:
    # An account of its own: the shared ones (alice, bob) stay ordinary users for other tests.
    carol = await stack.register()
    async with stack.http(carol) as http:
        assert (await http.get("/api/admin/users")).status_code == 403
    # Not subprocess.run: that would block the event loop the stack's projectors run on.
    code, _, err = await confab(stack, "admin", "grant", carol.email)
    assert code == 0, err
    async with stack.http(carol) as http:
        users = await http.get("/api/admin/users")
    assert users.status_code == 200
    assert carol.email in {u["email"] for u in users.json()}


async def test_a_chat_whose_bot_is_archived_goes_on_with_the_default_bot(
    stack: Stack, alice: Account
) -> None:
    async with stack.http(alice) as http:
        mine = (await http.post("/api/bots", json={"name": "Short Lived"})).json()
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        await client.send("Hello.", bot_id=mine["id"])
        accepted, _ = await client.until("accepted")
        await client.until("message", "error")
        async with stack.http(alice) as http:
            assert (await http.delete(f"/api/bots/{mine['id']}")).status_code in (200, 204)
        _, final, _ = await client.turn("Still there?", conversation_id=accepted["conversation_id"])
    assert final["type"] == "message"
    names = [
        e["bot_name"]
        for e in requested_events(stack, accepted["conversation_id"])
        if "bot_name" in e
    ]
    assert names == ["Short Lived", "Assistant"]


async def test_only_a_message_that_mentions_a_bot_reads_the_list_of_bots(
    stack: Stack, alice: Account
) -> None:
    """The read-model query of every bot a user may use is skipped when routing needs none."""
    bus = bootstrap.build_bus(stack.settings)
    asked: list[str] = []

    def candidates(text: str) -> Callable[[], list[BotChoice]]:
        def read() -> list[BotChoice]:
            asked.append(text)
            return []

        return read

    conversations = []
    try:
        for text in ("Plain question?", "@nobody are you there?"):
            cmd = chat.PostMessage(uuid.UUID(alice.user_id), str(uuid.uuid4()), text)
            accepted = await bus.post_message(cmd, candidates(text))
            assert accepted.request is not None
            conversations.append(str(accepted.conversation_id))
    finally:
        bus.close()
    assert asked == ["@nobody are you there?"]

    async def answered() -> bool:
        return all(
            {"ResponseCompleted", "ResponseFailed"} & set(stack.stored_events(c))
            for c in conversations
        )

    await eventually(answered, timeout=90)
