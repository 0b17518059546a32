"""The batching engine on the real model: same greedy tokens as `generate`, alone and together.

The engine runs in fp32 here, the CPU default, where batching does not change a greedy choice.
A small prefill budget makes the longer prompts arrive in several chunks while others decode.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from confab.settings import Settings
from domain.conversation import Completion
from workers.engine.generator import ChatRequest, Generator
from workers.engine.runner import Chunk, Runner, StepInput

NEW_TOKENS = 20
TOPICS = ["the sea", "a cat", "databases", "the moon landing", "bread", "chess", "rust", "rain"]


def conversation(i: int, topic: str) -> list[dict[str, str]]:
    # Prompts from ~25 to ~150 tokens: the longer ones take several 64-token chunks.
    system = "You are a helpful assistant who answers briefly. " * (i * 2)
    return [
        {"role": "system", "content": system or "You are helpful."},
        {"role": "user", "content": f"Tell me about {topic} in two sentences."},
    ]


CONVERSATIONS = [conversation(i, t) for i, t in enumerate(TOPICS)]


@pytest.fixture(scope="module")
def model_dir(settings: Settings) -> Path:
    assert settings.model_dir is not None
    return Path(settings.model_dir)


@pytest.fixture(scope="module")
def generator(model_dir: Path) -> Iterator[Generator]:
    gen = Generator(
        model_dir, "smollm2", max_batch=8, max_len=512, prefill_tokens=64, dtype=torch.float32
    )
    yield gen
    gen.close()


@pytest.fixture(scope="module")
def expected(model_dir: Path) -> list[tuple[str, int]]:
    """What transformers' own `generate` says, greedy, one conversation at a time."""
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model: Any = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    answers = []
    for messages in CONVERSATIONS:
        ids = tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt"
        )
        with torch.inference_mode():
            out = model.generate(
                ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=NEW_TOKENS,
                do_sample=False,
                pad_token_id=tokenizer.eos_token_id,
            )
        new = out[0, ids.shape[1] :]
        answers.append((tokenizer.decode(new, skip_special_tokens=True).strip(), len(new)))
    return answers


async def collect(
    generator: Generator, request: ChatRequest, first_delta: asyncio.Event | None = None
) -> tuple[str, Completion]:
    text = ""
    async for item in generator.stream(request):
        if isinstance(item, Completion):
            return text, item
        text += item
        if first_delta is not None:
            first_delta.set()
    raise AssertionError("the stream ended without a Completion")


async def test_greedy_output_alone_is_token_identical_to_generate(
    generator: Generator, expected: list[tuple[str, int]]
) -> None:
    text, completion = await collect(
        generator, ChatRequest(CONVERSATIONS[3], max_new_tokens=NEW_TOKENS)
    )
    assert (completion.text, completion.completion_tokens) == expected[3]
    assert text.strip() == completion.text  # the deltas add up to the answer


async def test_greedy_output_of_staggered_concurrent_requests_is_identical_to_generate(
    generator: Generator, expected: list[tuple[str, int]]
) -> None:
    tasks = []
    for messages in CONVERSATIONS:
        # Each request joins while the earlier ones are mid-stream.
        streaming = asyncio.Event()
        request = ChatRequest(messages, max_new_tokens=NEW_TOKENS)
        tasks.append(asyncio.create_task(collect(generator, request, streaming)))
        await asyncio.wait_for(streaming.wait(), timeout=30)
    results = await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    got = [(c.text, c.completion_tokens) for _, c in results]
    assert got == expected
    assert all(text.strip() == c.text for text, c in results)


async def test_cancelling_a_stream_ends_it_and_frees_its_slot(generator: Generator) -> None:
    request = ChatRequest(CONVERSATIONS[0], max_new_tokens=400)
    streaming = asyncio.Event()
    task = asyncio.create_task(collect(generator, request, streaming))
    await asyncio.wait_for(streaming.wait(), timeout=30)
    request.cancelled.set()
    _, completion = await asyncio.wait_for(task, timeout=30)
    assert completion.finish_reason == "cancelled"
    assert completion.completion_tokens < 400
    assert await wait_until_idle(generator)


async def test_a_consumer_that_closes_the_stream_cancels_its_request(generator: Generator) -> None:
    request = ChatRequest(CONVERSATIONS[1], max_new_tokens=400)
    async with contextlib.aclosing(generator.stream(request)) as stream:
        async for _ in stream:
            break  # as when a websocket goes away mid-answer
    assert request.cancelled.is_set()
    assert await wait_until_idle(generator)


async def test_max_new_tokens_is_honoured(generator: Generator) -> None:
    request = ChatRequest(CONVERSATIONS[2], max_new_tokens=5)
    _, completion = await collect(generator, request)
    assert completion.completion_tokens == 5 and completion.finish_reason == "length"
    assert completion.ttft_ms <= completion.total_ms


async def test_sampling_parameters_are_accepted_per_request(generator: Generator) -> None:
    requests = [
        ChatRequest(CONVERSATIONS[4], max_new_tokens=12, temperature=0.8, top_p=0.9),
        ChatRequest(CONVERSATIONS[5], max_new_tokens=12, repetition_penalty=1.3),
        ChatRequest(CONVERSATIONS[6], max_new_tokens=12),
    ]
    results = await asyncio.gather(*(collect(generator, r) for r in requests))
    for _, completion in results:
        assert completion.completion_tokens > 0 and completion.text
        assert completion.finish_reason in {"stop", "length"}


async def test_a_failed_step_fails_its_requests_and_the_engine_serves_on(
    generator: Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(step: Any) -> Any:
        raise RuntimeError("out of memory")

    with monkeypatch.context() as patch:
        patch.setattr(generator.engine.runner, "forward", broken)
        with pytest.raises(RuntimeError, match="out of memory"):
            await collect(generator, ChatRequest(CONVERSATIONS[0], max_new_tokens=4))
    assert generator.engine.busy == 0
    _, completion = await collect(generator, ChatRequest(CONVERSATIONS[0], max_new_tokens=4))
    assert completion.completion_tokens == 4


async def wait_until_idle(generator: Generator, timeout: float = 10) -> bool:
    """True once the engine holds no sequence; it notices a cancel at its next step."""
    idle = threading.Event()

    def poll() -> None:
        while not idle.wait(0.01):
            if generator.engine.busy == 0:
                idle.set()

    try:
        await asyncio.wait_for(asyncio.to_thread(poll), timeout)
    except TimeoutError:
        idle.set()
        return False
    return True


def test_a_bf16_runner_computes_wide_steps_from_an_exact_fp32_copy(model_dir: Path) -> None:
    """On a CPU without bf16 instructions, wide steps run from fp32 copies of the bf16 weights:
    the same values, so the same logits within bf16 rounding and the same greedy choices."""
    model: Any = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16).eval()
    runner = Runner(model, slots=4, max_len=128, wide_copy=True)
    assert runner.wide_layers is not None and runner.wide_lm_head is not None
    wide_qkv, qkv = runner.wide_layers[0].qkv, runner.layers[0].qkv
    assert isinstance(wide_qkv, torch.Tensor) and isinstance(qkv, torch.Tensor)
    assert wide_qkv.dtype == torch.float32
    assert torch.equal(wide_qkv.to(torch.bfloat16), qkv)
    assert torch.equal(runner.wide_lm_head.to(torch.bfloat16), runner.lm_head)

    prompts = [list(range(200 + 7 * i, 230 + 7 * i)) for i in range(4)]
    for slot, prompt in enumerate(prompts):
        runner.forward(StepInput(chunks=[Chunk(slot, 0, prompt)]))
    step = StepInput(
        decode_slots=[0, 1, 2, 3], decode_tokens=[42, 43, 44, 45], decode_positions=[30] * 4
    )
    runner.narrow_rows = 8  # four rows: bf16 weights
    narrow = runner.forward(step)
    runner.narrow_rows = 1  # four rows: the fp32 copy
    wide = runner.forward(step)
    assert narrow.shape == wide.shape == (4, model.config.vocab_size)
    assert torch.equal(narrow.argmax(-1), wide.argmax(-1))
    scale = narrow.abs().max()
    assert (narrow - wide).abs().max() < 0.05 * scale
    # and a wrong copy would show: the fp32 path from other weights disagrees
    runner.wide_lm_head = runner.wide_lm_head.roll(1, dims=0)
    assert not torch.equal(runner.forward(step).argmax(-1), narrow.argmax(-1))


def test_int8_weights_serve_narrow_steps_and_keep_the_greedy_choices(model_dir: Path) -> None:
    """Steps of a few rows read int8 copies of the weights (half the memory traffic). Fed the
    same tokens one at a time, the int8 runner picks the bf16 runner's next token almost
    everywhere, and its logits differ (so the int8 path really ran)."""
    model: Any = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16).eval()
    plain = Runner(model, slots=1, max_len=256)
    int8 = Runner(model, slots=1, max_len=256, int8_narrow=True)
    assert int8.int8_layers is not None and plain.int8_layers is None
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    prompt = tokenizer.apply_chat_template(CONVERSATIONS[2], add_generation_prompt=True)
    text = "Databases store data so that programs can find it again: tables, rows, indexes. " * 3
    follow = tokenizer(text, add_special_tokens=False)["input_ids"][:64]
    for runner in (plain, int8):  # a whole prompt is a wide step: bf16 weights in both
        runner.forward(StepInput(chunks=[Chunk(0, 0, prompt)]))
    agree, differ = 0, 0.0
    for i, token in enumerate(follow):
        position = len(prompt) + i
        step = StepInput(decode_slots=[0], decode_tokens=[token], decode_positions=[position])
        a, b = plain.forward(step)[0], int8.forward(step)[0]
        agree += int(a.argmax() == b.argmax())
        differ = max(differ, float((a - b).abs().max()))
    assert agree >= 0.9 * len(follow), f"{agree} of {len(follow)} greedy choices agree"
    assert differ > 0.0
