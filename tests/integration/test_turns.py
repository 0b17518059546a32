"""Stop, regenerate, edit into a branch, feedback, rename and delete, on the running stack."""

from __future__ import annotations

import uuid

from tests.integration.conftest import Account, Stack
from tests.integration.wsclient import ChatClient


async def transcript(stack: Stack, account: Account, conversation_id: str) -> dict:
    async with stack.http(account) as http:
        response = await http.get(f"/api/conversations/{conversation_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_stop_cancels_the_generation_and_frees_the_worker(
    stack: Stack, alice: Account
) -> None:
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        await client.send("Write a very long story about a dragon and a knight.")
        accepted, _ = await client.until("accepted")
        await client.until("delta")
        await client.frame(
            type="stop",
            conversation_id=accepted["conversation_id"],
            response_id=accepted["response_id"],
        )
        cancelled, _ = await client.until("cancelled", "message", "error")
        _, after, _ = await client.turn("Say yes.", conversation_id=accepted["conversation_id"])
    assert cancelled["type"] == "cancelled"
    assert cancelled["response_id"] == accepted["response_id"]
    assert after["type"] == "message"
    names = stack.stored_events(accepted["conversation_id"])
    assert "ResponseCancelled" in names
    assert names.count("ResponseCompleted") == 1  # only the second message's answer


async def test_regenerate_keeps_the_old_answer_as_an_alternative(
    stack: Stack, alice: Account
) -> None:
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        accepted, first, _ = await client.turn("Name a fruit.")
        await client.frame(
            type="regenerate",
            conversation_id=accepted["conversation_id"],
            message_id=accepted["message_id"],
        )
        again, _ = await client.until("accepted", "error")
        second, _ = await client.until("message", "error")
    assert again["type"] == "accepted" and again["response_id"] != accepted["response_id"]
    assert second["response_id"] == again["response_id"]
    turns = (await transcript(stack, alice, accepted["conversation_id"]))["messages"]
    answers = [t for t in turns if t["parent_id"] == accepted["message_id"]]
    assert [a["id"] for a in answers] == [accepted["response_id"], again["response_id"]]
    assert answers[0]["text"] == first["text"]


async def test_editing_a_message_starts_a_branch_and_keeps_the_original(
    stack: Stack, alice: Account
) -> None:
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        first, _, _ = await client.turn("Say one.")
        conversation_id = first["conversation_id"]
        second, _, _ = await client.turn("Say two.", conversation_id=conversation_id)
        edit_id = str(uuid.uuid4())
        await client.frame(
            type="edit",
            conversation_id=conversation_id,
            message_id=second["message_id"],
            client_msg_id=edit_id,
            text="Say three.",
        )
        edited, _ = await client.until("accepted", "error")
        await client.until("message", "error")
    body = await transcript(stack, alice, conversation_id)
    by_id = {t["id"]: t for t in body["messages"]}
    assert edited["message_id"] != second["message_id"]
    assert by_id[edited["message_id"]]["parent_id"] == by_id[second["message_id"]]["parent_id"]
    assert by_id[second["message_id"]]["text"] == "Say two."  # the original branch stays
    assert body["leaf_id"] == edited["response_id"]


async def test_feedback_is_recorded_and_bad_ratings_are_refused(
    stack: Stack, alice: Account
) -> None:
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        accepted, _, _ = await client.turn("Say hi.")
        await client.frame(
            type="feedback",
            conversation_id=accepted["conversation_id"],
            response_id=accepted["response_id"],
            rating=1,
            comment="nice",
        )
        notice, _ = await client.until("notice", "error")
    path = (
        f"/api/conversations/{accepted['conversation_id']}"
        f"/responses/{accepted['response_id']}/feedback"
    )
    async with stack.http(alice) as http:
        bad = await http.put(path, json={"rating": 3})
        down = await http.put(path, json={"rating": -1, "comment": "changed my mind"})
    assert notice["kind"] == "feedback"
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "rating"
    assert down.status_code == 204
    turns = (await transcript(stack, alice, accepted["conversation_id"]))["messages"]
    assert turns[-1]["feedback"] == {"rating": -1, "comment": "changed my mind"}
    assert stack.stored_events(accepted["conversation_id"]).count("FeedbackGiven") == 2


async def test_rename_and_delete_hide_a_conversation_from_every_view(
    stack: Stack, alice: Account
) -> None:
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        accepted, _, _ = await client.turn("Remember the zebra password.")
    conversation_id = accepted["conversation_id"]
    async with stack.http(alice) as http:
        renamed = await http.patch(f"/api/conversations/{conversation_id}", json={"title": "Zoo"})
        listed = {c["id"]: c["title"] for c in (await http.get("/api/conversations")).json()}
        deleted = await http.delete(f"/api/conversations/{conversation_id}")
        after = await http.get(f"/api/conversations/{conversation_id}")
        still_listed = {c["id"] for c in (await http.get("/api/conversations")).json()}
        found = (await http.get("/api/search", params={"q": "zebra"})).json()
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        await client.send("Hello again", conversation_id=conversation_id)
        refused, _ = await client.until("error", "accepted")
    assert renamed.status_code == 200 and listed[conversation_id] == "Zoo"
    assert deleted.status_code == 204
    assert after.status_code == 404
    assert conversation_id not in still_listed
    assert conversation_id not in {h["conversation_id"] for h in found["hits"]}
    assert refused["code"] == "conversation_not_found"


async def test_nobody_stops_rates_or_deletes_another_users_conversation(
    stack: Stack, alice: Account, bob: Account
) -> None:
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        accepted, _, _ = await client.turn("Alice only.")
    conversation_id, response_id = accepted["conversation_id"], accepted["response_id"]
    before = await stack.event_count()
    async with ChatClient.connect(stack.ws_url, bob.headers) as client:
        codes = []
        for frame in (
            {"type": "stop", "response_id": response_id},
            {"type": "feedback", "response_id": response_id, "rating": -1},
            {"type": "regenerate", "message_id": response_id},
        ):
            await client.frame(conversation_id=conversation_id, **frame)
            error, _ = await client.until("error", "accepted", "notice")
            codes.append(error.get("code"))
    async with stack.http(bob) as http:
        rename = await http.patch(f"/api/conversations/{conversation_id}", json={"title": "x"})
        delete = await http.delete(f"/api/conversations/{conversation_id}")
    assert codes == ["conversation_not_found"] * 3
    assert rename.status_code == delete.status_code == 404
    assert await stack.event_count() == before


async def test_a_new_socket_can_watch_a_reply_in_progress(stack: Stack, alice: Account) -> None:
    async with ChatClient.connect(stack.ws_url, alice.headers) as first:
        await first.send("Write a short poem about the sea.")
        accepted, _ = await first.until("accepted")
    # The first socket is gone (a reload, a dropped connection); a new one picks the reply up.
    async with ChatClient.connect(stack.ws_url, alice.headers) as second:
        await second.frame(type="watch", conversation_id=accepted["conversation_id"])
        watching, _ = await second.until("notice", "error")
        final, _ = await second.until("message", "error")
    assert watching["kind"] == "watch"
    assert final["type"] == "message" and final["response_id"] == accepted["response_id"]


async def test_watching_another_users_conversation_is_refused(
    stack: Stack, alice: Account, bob: Account
) -> None:
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        accepted, _, _ = await client.turn("Private.")
    async with ChatClient.connect(stack.ws_url, bob.headers) as client:
        await client.frame(type="watch", conversation_id=accepted["conversation_id"])
        refused, _ = await client.until("error", "notice")
    assert refused["code"] == "conversation_not_found"


async def test_a_message_can_continue_the_branch_on_screen(stack: Stack, alice: Account) -> None:
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        accepted, _, _ = await client.turn("Name a colour.")
        conversation_id = accepted["conversation_id"]
        await client.frame(
            type="regenerate", conversation_id=conversation_id, message_id=accepted["message_id"]
        )
        await client.until("accepted")
        await client.until("message", "error")
        # The user switched back to the first answer and writes below it.
        await client.frame(
            type="send",
            conversation_id=conversation_id,
            client_msg_id=str(uuid.uuid4()),
            text="Why that one?",
            parent_id=accepted["response_id"],
        )
        follow_up, _ = await client.until("accepted", "error")
        await client.until("message", "error")
        await client.frame(
            type="send",
            conversation_id=conversation_id,
            client_msg_id=str(uuid.uuid4()),
            text="Lost?",
            parent_id=str(uuid.uuid4()),
        )
        refused, _ = await client.until("error", "accepted")
    turns = {t["id"]: t for t in (await transcript(stack, alice, conversation_id))["messages"]}
    assert turns[follow_up["message_id"]]["parent_id"] == accepted["response_id"]
    assert refused["code"] == "message_rejected"
