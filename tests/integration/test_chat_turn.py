"""One chat turn end to end: websocket -> event store -> relay -> JetStream -> worker -> back."""

from __future__ import annotations

import json

from tests.integration.conftest import Account, Stack
from tests.integration.wsclient import ChatClient

QUESTION = "What is the capital of France? Answer in one word."


async def test_question_streams_deltas_and_a_final_answer_naming_paris(
    stack: Stack, alice: Account
) -> None:
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        accepted, final, deltas = await client.turn(QUESTION)

    assert accepted["type"] == "accepted"
    assert final["type"] == "message", final
    assert final["role"] == "assistant"
    assert "paris" in final["text"].lower()
    assert deltas, "the reply was not streamed"
    assert "".join(d["text"] for d in deltas).strip() == final["text"]
    usage = final["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["model"] == "SmolLM2-135M-Instruct"
    assert 0 < usage["ttft_ms"] <= usage["total_ms"]
    assert stack.stored_events(accepted["conversation_id"]) == [
        "Started",
        "MessagePosted",
        "ResponseRequested",
        "ResponseCompleted",
    ]


async def test_resend_with_same_client_msg_id_creates_nothing(stack: Stack, alice: Account) -> None:
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        client_msg_id = await client.send("Say hello.")
        first, _ = await client.until("accepted")
        await client.until("message", "error")
        events_after_first = await stack.event_count()

        await client.send("Say hello.", client_msg_id=client_msg_id)
        again, _ = await client.until("accepted")
        await client.send(
            "Say hello.", conversation_id=first["conversation_id"], client_msg_id=client_msg_id
        )
        resent_into_conversation, _ = await client.until("accepted")

    assert again == first
    assert resent_into_conversation == first
    assert await stack.event_count() == events_after_first


async def test_follow_up_in_the_same_conversation_is_prompted_with_the_history(
    stack: Stack, alice: Account
) -> None:
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        accepted, first, _ = await client.turn("My name is Ada. Reply with OK.")
        conversation_id = accepted["conversation_id"]
        _, second, _ = await client.turn("What is my name?", conversation_id=conversation_id)

    assert second["type"] == "message"
    # The second prompt holds the first question and answer, not just the new question.
    first_turn_tokens = first["usage"]["prompt_tokens"] + first["usage"]["completion_tokens"]
    assert second["usage"]["prompt_tokens"] > first_turn_tokens
    assert stack.stored_events(conversation_id).count("ResponseCompleted") == 2


async def test_malformed_frames_get_error_frames_and_the_socket_stays_usable(
    stack: Stack, alice: Account
) -> None:
    bad_frames: list[str | bytes] = [
        "not json",
        json.dumps({"type": "send", "text": "hi"}),  # no client_msg_id
        json.dumps({"type": "send", "client_msg_id": "a", "text": 5}),
        json.dumps({"type": "send", "client_msg_id": "a", "text": "hi", "extra": 1}),
        json.dumps({"type": "shout", "client_msg_id": "a", "text": "hi"}),
        json.dumps({"type": "send", "client_msg_id": "a", "text": "   "}),
        json.dumps({"type": "send", "client_msg_id": "a", "text": "x" * 40_000}),
        json.dumps({"type": "send", "client_msg_id": "a", "text": "hi", "conversation_id": "nope"}),
        json.dumps(
            {
                "type": "send",
                "client_msg_id": "a",
                "text": "hi",
                "conversation_id": "00000000-0000-0000-0000-000000000000",
            }
        ),
        b"\xff\xfe not utf-8",
    ]
    before = await stack.event_count()
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        codes = []
        for raw in bad_frames:
            await client.ws.send(raw)
            frame = await client.next_frame(timeout=10)
            assert frame["type"] == "error", (raw, frame)
            assert frame["message"]
            codes.append(frame["code"])
        assert await stack.event_count() == before, "a bad frame stored something"

        _, final, _ = await client.turn("Reply with the word yes.")
    assert final["type"] == "message"
    assert codes[-1] == "bad_frame"
    assert "message_rejected" in codes
    assert "conversation_not_found" in codes


async def test_transcript_endpoint_returns_the_conversation(stack: Stack, alice: Account) -> None:
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        accepted, final, _ = await client.turn("Name a colour.")
    async with stack.http(alice) as http:
        response = await http.get(f"/api/conversations/{accepted['conversation_id']}")
        missing = await http.get("/api/conversations/00000000-0000-0000-0000-000000000000")
        malformed = await http.get("/api/conversations/not-a-uuid")

    assert response.status_code == 200
    body = response.json()
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"]
    assert body["messages"][0]["text"] == "Name a colour."
    assert body["messages"][1]["text"] == final["text"]
    assert body["messages"][1]["status"] == "complete"
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "conversation_not_found"
    assert malformed.status_code in (400, 404)
    assert "error" in malformed.json()


async def test_health_and_openapi_schema_are_served(stack: Stack, alice: Account) -> None:
    async with stack.http() as http:
        health = await http.get("/healthz")
        schema = await http.get("/schema/openapi.json")
    assert health.json() == {"status": "ok"}
    assert "/api/conversations/{conversation_id}" in schema.json()["paths"]
