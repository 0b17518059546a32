"""The prompt the API carries beside an early-published request (commands/prompts.py)."""

from __future__ import annotations

import uuid

from commands.handlers import request_of
from commands.messages import GenerationRequest, PromptHint
from commands.prompts import MOST_BYTES, prompt_from, prompt_header
from domain.conversation import Conversation, ResponseSettings


def a_request(text: str = "Hello, wörld ✓") -> GenerationRequest:
    return GenerationRequest(
        status="pending",
        model="smollm2",
        system_prompt="Be brief.",
        sampling={"temperature": 0.7, "stop": ["\n\n"]},
        history=[("user", "Hi"), ("assistant", "Hello!"), ("user", text)],
        prompt_turn_ids=("a", "b", "c"),
        attachments=((), (), ({"id": "f1", "name": "notes.txt"},)),
    )


def test_it_comes_back_as_it_went() -> None:
    header = prompt_header(PromptHint(20, a_request()))
    assert header is not None and header.isascii() and "\n" not in header
    assert prompt_from(header, 20) == a_request()


def test_a_worker_that_keeps_another_history_length_reads_the_log() -> None:
    header = prompt_header(PromptHint(20, a_request()))
    assert prompt_from(header, 8) is None


def test_nothing_or_garbage_is_no_prompt() -> None:
    assert prompt_from(None, 20) is None
    assert prompt_from("", 20) is None
    assert prompt_from("not base64!", 20) is None
    assert prompt_from("eyJhIjogMX0=", 20) is None  # base64 of JSON, but not a prompt


def test_a_long_prompt_is_not_carried() -> None:
    assert prompt_header(PromptHint(20, a_request("x" * MOST_BYTES))) is None


def test_the_prompt_of_a_new_message_is_the_history_up_to_it() -> None:
    conversation = Conversation(id=uuid.uuid4(), user_id="u", title="t", bot_id="b")
    settings = ResponseSettings("b", "Bot", "m", "Be kind.", {"top_p": 0.9})
    conversation.post_message("u", "c1", "First?", {}, settings)
    _, second = conversation.post_message("u", "c2", "Second?", {}, settings)
    request = request_of(conversation, second, 20)
    assert request.status == "pending"
    assert request.system_prompt == "Be kind." and request.sampling == {"top_p": 0.9}
    # the first question has no finished answer: it stays in the prompt, its reply does not
    assert request.history == [("user", "First?"), ("user", "Second?")]
    assert len(request_of(conversation, second, 1).history) == 1
