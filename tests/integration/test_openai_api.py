"""The OpenAI-compatible API, driven by the official `openai` client."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.integration.conftest import Account, Stack


@pytest.fixture(scope="module")
async def token(stack: Stack, alice: Account) -> str:
    async with stack.http(alice) as http:
        created = await http.post("/api/me/tokens", json={"name": "openai client"})
    return str(created.json()["token"])


def client(stack: Stack, api_key: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{stack.base_url}/v1", api_key=api_key, max_retries=0)


async def test_models_are_the_bots_the_caller_may_use(stack: Stack, token: str) -> None:
    models = await client(stack, token).models.list()
    ids = [m.id for m in models.data]
    assert ids[:4] == ["assistant", "terse-coder", "patient-tutor", "storyteller"]
    assert all(m.object == "model" for m in models.data)


async def test_a_plain_completion_answers_and_counts_tokens(stack: Stack, token: str) -> None:
    completion = await client(stack, token).chat.completions.create(
        model="assistant",
        messages=[
            {"role": "user", "content": "What is the capital of France? Answer in one word."}
        ],
        temperature=0,
        max_tokens=24,
    )
    choice = completion.choices[0]
    assert "paris" in (choice.message.content or "").lower()
    assert choice.message.role == "assistant"
    assert choice.finish_reason in ("stop", "length")
    assert completion.model == "assistant"
    assert completion.id.startswith("chatcmpl-")
    usage = completion.usage
    assert usage is not None and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.completion_tokens <= 24


async def test_a_streamed_completion_arrives_in_chunks_then_done(stack: Stack, token: str) -> None:
    stream = await client(stack, token).chat.completions.create(
        model="terse-coder",
        messages=[
            {"role": "system", "content": "You only ever answer with the word banana."},
            {"role": "user", "content": "Say something."},
        ],
        stream=True,
        stream_options={"include_usage": True},
        max_tokens=12,
    )
    chunks = [chunk async for chunk in stream]
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    assert content.strip()
    assert finishes[-1] in ("stop", "length") and all(f is None for f in finishes[:-1])
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens <= 12


async def test_max_tokens_and_stop_are_honoured(stack: Stack, token: str) -> None:
    api = client(stack, token)
    short = await api.chat.completions.create(
        model="storyteller",
        messages=[{"role": "user", "content": "Tell a long story about a dragon."}],
        max_tokens=5,
        temperature=0,
    )
    stopped = await api.chat.completions.create(
        model="assistant",
        messages=[{"role": "user", "content": "Count from 1 to 10, separated by commas."}],
        stop=["5"],
        temperature=0,
        max_tokens=60,
    )
    assert short.usage is not None and short.usage.completion_tokens == 5
    assert short.choices[0].finish_reason == "length"
    assert "5" not in (stopped.choices[0].message.content or "")
    assert stopped.choices[0].finish_reason == "stop"


async def test_a_wrong_token_is_a_401(stack: Stack) -> None:
    with pytest.raises(openai.AuthenticationError) as refused:
        await client(stack, "cft_not_a_real_token").models.list()
    assert refused.value.status_code == 401
    assert refused.value.code == "invalid_api_key"


async def test_an_unknown_model_is_a_404(stack: Stack, token: str) -> None:
    with pytest.raises(openai.NotFoundError) as refused:
        await client(stack, token).chat.completions.create(
            model="gpt-99", messages=[{"role": "user", "content": "hi"}]
        )
    assert refused.value.code == "model_not_found"


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"n": 2}, "n"),
        ({"logprobs": True}, "logprobs"),
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools"),
        ({"temperature": 3}, "temperature"),
        ({"max_tokens": 100000}, "max_tokens"),
        ({"made_up": 1}, "made_up"),
    ],
)
async def test_unsupported_parameters_get_openai_style_400s(
    stack: Stack, token: str, extra: dict, param: str
) -> None:
    before = await stack.event_count()
    async with httpx.AsyncClient(base_url=stack.base_url) as http:
        response = await http.post(
            "/v1/chat/completions",
            headers={"Authorization": f"Bearer {token}"},
            json={"model": "assistant", "messages": [{"role": "user", "content": "hi"}], **extra},
        )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert error["message"]
    assert await stack.event_count() == before


async def test_requests_become_conversations_and_can_continue_one(
    stack: Stack, alice: Account, token: str
) -> None:
    api = client(stack, token)
    first = await api.chat.completions.create(
        model="assistant",
        messages=[
            {"role": "user", "content": "My name is Ada."},
            {"role": "assistant", "content": "Nice to meet you, Ada."},
            {"role": "user", "content": "Reply with OK."},
        ],
        max_tokens=8,
    )
    async with stack.http(alice) as http:
        listed = (await http.get("/api/conversations")).json()
        conversation_id = listed[0]["id"]
        transcript = (await http.get(f"/api/conversations/{conversation_id}")).json()
    texts = [m["text"] for m in transcript["messages"]]
    assert texts[:3] == ["My name is Ada.", "Nice to meet you, Ada.", "Reply with OK."]
    assert texts[3] == first.choices[0].message.content
    assert stack.stored_events(conversation_id)[:3] == ["Started", "TurnRecorded", "TurnRecorded"]

    await api.chat.completions.create(
        model="assistant",
        messages=[{"role": "user", "content": "And again."}],
        max_tokens=8,
        extra_body={"conversation_id": conversation_id},
    )
    assert stack.stored_events(conversation_id).count("ResponseCompleted") == 2
