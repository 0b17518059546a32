"""From an OpenAI request to Confab's command, and from Confab's frames to OpenAI objects."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from api.openai.errors import invalid
from api.openai.schemas import UNSUPPORTED_DEFAULTS, CompletionRequest
from domain.persona import Sampling

FINISH_REASONS = {"stop": "stop", "length": "length", "cancelled": "stop"}
MAX_STOPS = 4


@dataclass(frozen=True)
class Turn:
    """What one request asks: the new user message, earlier turns, a system prompt, sampling."""

    text: str
    context: list[tuple[str, str]]
    system_prompt: str | None
    sampling: dict[str, Any]


def check_supported(request: CompletionRequest) -> None:
    for name, default in UNSUPPORTED_DEFAULTS.items():
        value = getattr(request, name)
        if value is not None and value != default:
            raise invalid(f"Confab does not support the parameter '{name}'.", param=name)
    if request.n != 1:
        raise invalid("Confab returns one choice per request: n must be 1.", param="n")


def sampling_of(request: CompletionRequest) -> dict[str, Any]:
    sampling: dict[str, Any] = {}
    max_tokens = request.max_completion_tokens or request.max_tokens
    for name, value in (
        ("temperature", request.temperature),
        ("top_p", request.top_p),
        ("max_new_tokens", max_tokens),
    ):
        if value is None:
            continue
        low, high = Sampling.RANGES[name]
        if not low <= value <= high:
            param = {"max_new_tokens": "max_tokens"}.get(name, name)
            raise invalid(f"{param} must be between {low} and {high}.", param=param)
        sampling[name] = value
    stops = [request.stop] if isinstance(request.stop, str) else list(request.stop or [])
    if len(stops) > MAX_STOPS or any(not s for s in stops):
        raise invalid(f"stop takes up to {MAX_STOPS} non-empty strings.", param="stop")
    if stops:
        sampling["stop"] = stops
    return sampling


def turn_of(request: CompletionRequest) -> Turn:
    check_supported(request)
    if not request.messages or request.messages[-1].role != "user":
        raise invalid("The last message must be from the user.", param="messages")
    system = [m.text() for m in request.messages if m.role in ("system", "developer")]
    context = []
    for message in request.messages[:-1]:
        if message.role in ("user", "assistant"):
            if message.text().strip():
                context.append((message.role, message.text()))
        elif message.role not in ("system", "developer"):
            raise invalid(f"Messages with role '{message.role}' are not supported.", "messages")
    text = request.messages[-1].text()
    if not text.strip():
        raise invalid("The last user message is empty.", param="messages")
    return Turn(text, context, "\n".join(system) if system else None, sampling_of(request))


def completion_id(response_id: str) -> str:
    return "chatcmpl-" + response_id.replace("-", "")


def usage_of(usage: dict[str, Any]) -> dict[str, int]:
    prompt, completion = int(usage["prompt_tokens"]), int(usage["completion_tokens"])
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def completion_object(
    response_id: str, model: str, text: str, usage: dict[str, Any], created: int
) -> dict[str, Any]:
    return {
        "id": completion_id(response_id),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": FINISH_REASONS.get(usage.get("finish_reason", ""), "stop"),
            }
        ],
        "usage": usage_of(usage),
    }


def chunk_object(
    response_id: str,
    model: str,
    created: int,
    delta: dict[str, Any],
    finish_reason: str | None = None,
) -> dict[str, Any]:
    return {
        "id": completion_id(response_id),
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }


def usage_chunk(response_id: str, model: str, created: int, usage: dict[str, Any]) -> dict:
    return {
        "id": completion_id(response_id),
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [],
        "usage": usage_of(usage),
    }


def now() -> int:
    return int(time.time())
