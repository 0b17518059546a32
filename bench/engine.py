"""The batching engine against naive transformers `generate`, in one process.

    .venv/bin/python -m bench.engine [--quick] [--dtypes float32,bfloat16] [--gap-ms 100]

Baselines: `generate` one stream, then static (left-padded) batches of 8 and 32. The engine
serves 1, 8 and 32 concurrent streams that arrive `--gap-ms` apart. Every answer is exactly
`--new-tokens` long (eos ignored) and greedy. Prints TTFT p50/p95, tokens/s per stream and in
aggregate, each ratio against the baseline of the same width; writes
bench/results/engine-<device>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from transformers.generation.streamers import BaseStreamer

from bench.prompts import conversations
from domain.conversation import Completion
from workers.engine.generator import ChatRequest, Generator, engine_dtype

MODEL = Path("data/models/smollm2-135m-instruct")
RESULTS = Path(__file__).parent / "results"
WIDTHS = (1, 8, 32)


@dataclass
class Run:
    path: str
    streams: int
    ttft_p50_ms: float
    ttft_p95_ms: float
    per_stream_tok_s: float  # decode rate after the first token, mean over streams
    aggregate_tok_s: float  # all new tokens / wall time from first arrival to last token
    ratio: float | None = None  # aggregate against the baseline of the same width


def summarize(path: str, ttfts: list[float], rates: list[float], tokens: int, wall: float) -> Run:
    ttfts = sorted(ttfts)
    p95 = ttfts[min(len(ttfts) - 1, round(0.95 * (len(ttfts) - 1)))]
    return Run(
        path,
        len(ttfts),
        round(statistics.median(ttfts), 1),
        round(p95, 1),
        round(statistics.mean(rates), 1),
        round(tokens / wall, 1),
    )


class _FirstToken(BaseStreamer):
    def __init__(self) -> None:
        self.calls = 0
        self.at = 0.0

    def put(self, value: torch.Tensor) -> None:
        self.calls += 1
        if self.calls == 2:  # the first call hands over the prompt
            self.at = time.perf_counter()

    def end(self) -> None:
        pass


def baseline(model: Any, tokenizer: Any, chats: list[Any], new_tokens: int) -> Run:
    """`generate` on a static batch: everyone waits for the whole batch's prefill."""
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    texts = [
        tokenizer.apply_chat_template(c, add_generation_prompt=True, tokenize=False) for c in chats
    ]
    batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    streamer = _FirstToken() if len(chats) == 1 else None
    started = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(
            **batch,
            max_new_tokens=new_tokens,
            min_new_tokens=new_tokens,  # eos suppressed: every answer has the same length
            do_sample=False,
            pad_token_id=tokenizer.eos_token_id,
            streamer=streamer,
        )
    wall = time.perf_counter() - started
    assert out.shape[1] - batch["input_ids"].shape[1] == new_tokens
    # With a batch, the first token comes out of a prefill plus one step; time that separately.
    ttft = streamer.at - started if streamer else _batch_ttft(model, batch)
    rate = (new_tokens - 1) / (wall - ttft)
    name = "generate" if len(chats) == 1 else "generate, static batch"
    return summarize(
        name, [ttft * 1000] * len(chats), [rate] * len(chats), new_tokens * len(chats), wall
    )


def _batch_ttft(model: Any, batch: Any) -> float:
    started = time.perf_counter()
    with torch.inference_mode():
        model.generate(**batch, max_new_tokens=1, do_sample=False, pad_token_id=0)
    return time.perf_counter() - started


async def engine_run(
    generator: Generator, chats: list[Any], new_tokens: int, gap_s: float, label: str
) -> Run:
    async def one(chat: Any, delay: float) -> Completion:
        await asyncio.sleep(delay)  # the arrival schedule, not a wait for a result
        async for item in generator.stream(
            ChatRequest(chat, max_new_tokens=new_tokens), ignore_eos=True
        ):
            if isinstance(item, Completion):
                return item
        raise RuntimeError("no completion")

    started = time.perf_counter()
    done = await asyncio.gather(*(one(c, i * gap_s) for i, c in enumerate(chats)))
    wall = time.perf_counter() - started
    assert all(c.completion_tokens == new_tokens for c in done)
    ttfts = [c.ttft_ms for c in done]
    rates = [(new_tokens - 1) / ((c.total_ms - c.ttft_ms) / 1000) for c in done]
    return summarize(label, ttfts, rates, new_tokens * len(chats), wall)


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    return {
        "cpu": cpu,
        "cores": torch.get_num_threads(),
        "torch": torch.__version__,
        "device": device,
        # Other work on a small machine moves every figure: keep the load beside them.
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def show(run: Run) -> None:
    ratio = f"{run.ratio:5.2f}x" if run.ratio is not None else "     -"
    print(
        f"{run.path:32} {run.streams:>3}  TTFT p50 {run.ttft_p50_ms:7.0f} ms  "
        f"p95 {run.ttft_p95_ms:7.0f} ms  {run.per_stream_tok_s:6.1f} tok/s/stream  "
        f"{run.aggregate_tok_s:6.1f} tok/s  {ratio}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="32 new tokens, widths 1 and 8")
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--gap-ms", type=float, default=100.0, help="between engine arrivals")
    parser.add_argument("--dtypes", default="float32,bfloat16,int8", help="engine dtypes to run")
    parser.add_argument("--prefill-tokens", type=int, default=512, help="prompt tokens a step")
    parser.add_argument("--widths", default=",".join(map(str, WIDTHS)), help="stream counts")
    args = parser.parse_args()
    # Torch stays off the main thread, as in the worker process (whose Generator is built in a
    # worker thread): once the main thread has run torch's OpenMP pool, a step on any other
    # thread's pool measured 25-60% slower on this 2-core machine.
    thread = threading.Thread(target=run, args=(args,), name="bench")
    thread.start()
    thread.join()


def baselines(widths: tuple[int, ...], new_tokens: int, base: dict[int, Run]) -> None:
    tokenizer = AutoTokenizer.from_pretrained(MODEL)
    model: Any = AutoModelForCausalLM.from_pretrained(MODEL, dtype=torch.float32).eval()
    baseline(model, tokenizer, conversations(1), 8)  # warm-up: first calls pay for allocation
    for width in widths:
        base[width] = baseline(model, tokenizer, conversations(width), new_tokens)
        show(base[width])


def run(args: argparse.Namespace) -> None:
    new_tokens = 32 if args.quick else args.new_tokens
    widths = (1, 8) if args.quick else tuple(int(w) for w in args.widths.split(","))
    info = machine()
    print(f"{info} | {new_tokens} new tokens, greedy, eos ignored", flush=True)

    base: dict[int, Run] = {}
    # `generate` runs on a thread of its own that ends before the engine starts: while a thread
    # that used torch's OpenMP pool lives, another one's ops run ~50% slower (engine.py).
    thread = threading.Thread(target=baselines, args=(widths, new_tokens, base), name="generate")
    thread.start()
    thread.join()
    runs: list[Run] = list(base.values())

    for name in args.dtypes.split(","):
        dtype = engine_dtype(name)
        generator = Generator(
            MODEL,
            "bench",
            max_batch=max(widths),
            max_len=512,
            dtype=dtype,
            prefill_tokens=args.prefill_tokens,
        )
        asyncio.run(engine_run(generator, conversations(2), 8, 0.0, "warm-up"))
        for width in widths:
            label = f"engine {name}"
            if generator.engine.runner.wide_layers is not None:
                label += " (fp32 wide steps)"
            if generator.engine.runner.int8_layers is not None:
                label = "engine bf16 + int8 weights"
            run = asyncio.run(
                engine_run(generator, conversations(width), new_tokens, args.gap_ms / 1000, label)
            )
            run.ratio = round(run.aggregate_tok_s / base[width].aggregate_tok_s, 2)
            runs.append(run)
            show(run)
        generator.close()

    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / f"engine-{'cuda' if torch.cuda.is_available() else 'cpu'}.json"
    report = {
        "machine": info,
        "new_tokens": new_tokens,
        "gap_ms": args.gap_ms,
        "prefill_tokens": args.prefill_tokens,
        "quick": args.quick,
        "runs": [asdict(r) for r in runs],
    }
    report["machine"]["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    target.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
