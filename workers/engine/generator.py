"""The engine's face to asyncio: many concurrent `stream()` calls over one batching engine.

The model runs on the engine's own thread (workers/engine/engine.py); each stream gets its
deltas and its Completion through `call_soon_threadsafe` onto the loop that asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from domain.conversation import Completion
from workers.engine.engine import Engine, Submission
from workers.engine.priority import lower_this_thread
from workers.engine.request import ChatRequest
from workers.engine.sampling import SamplingParams

__all__ = ["ChatRequest", "Generator", "engine_dtype", "pick_device"]

log = logging.getLogger("confab.engine")


INT8_WEIGHTS = torch.int8
"""As an engine dtype: a bf16 model whose few-row steps read int8 copies of the weights."""


def pick_device() -> tuple[str, torch.dtype]:
    """CUDA in bf16 when a GPU is present, else the CPU in bf16 with int8 weights for steps of
    a few rows.

    A CPU decode step of one or a few streams is bound by memory bandwidth, so reading int8
    copies of the weights makes it ~1.8x faster than bf16 (bench/engine.py: 3.6x `generate`'s
    rate for one stream, where bf16 alone gives 2x); wide steps and prompts run on the bf16
    weights (on a CPU without bf16 instructions, on fp32 copies of them: see runner.py).
    fp32 (`dtype=torch.float32`, CONFAB_ENGINE_DTYPE) keeps greedy output token-identical to
    fp32 `generate`, batched or not.
    """
    if torch.cuda.is_available():
        return "cuda", torch.bfloat16
    return "cpu", INT8_WEIGHTS


def engine_dtype(name: str) -> torch.dtype | None:
    """A setting's dtype: "auto" (None: the device's default), "float32", "bfloat16" or "int8"
    (bf16 activations and weights, with weight-only int8 copies for steps of a few rows:
    half the memory traffic where a step is bound by it; see runner.py)."""
    choices = {
        "auto": None,
        "float32": torch.float32,
        "bfloat16": torch.bfloat16,
        "int8": INT8_WEIGHTS,
    }
    if name not in choices:
        raise ValueError(f"engine dtype must be one of {', '.join(choices)}, not {name!r}")
    return choices[name]


class Generator:
    def __init__(
        self,
        model_path: Path,
        model_name: str,
        *,
        max_batch: int = 16,
        max_len: int = 2048,
        prefill_tokens: int = 512,
        dtype: torch.dtype | None = None,
        threads: int | None = None,
        seed: int | None = None,
        priority: str = "normal",
    ) -> None:
        self.device, default_dtype = pick_device()
        self.dtype = dtype or default_dtype
        self.model_name = model_name
        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        int8 = self.dtype == INT8_WEIGHTS

        def load() -> Any:  # on the engine's thread, which runs every torch op from here on
            lower_this_thread(priority, self.device)  # before torch starts its OpenMP threads
            if self.device == "cpu":
                # One intra-op thread per core we may run on, unless told to leave some to
                # other processes: OpenMP threads that share a busy core wait on each other.
                torch.set_num_threads(threads or len(os.sched_getaffinity(0)))
            model: Any = AutoModelForCausalLM.from_pretrained(
                model_path, dtype=torch.bfloat16 if int8 else self.dtype
            )
            return model.to(self.device).eval()

        self.engine = Engine(
            load,
            self.tokenizer,
            model_name,
            max_batch=max_batch,
            max_len=max_len,
            prefill_tokens=prefill_tokens,
            seed=seed,
            int8_narrow=int8,
        )
        self.model = self.engine.model
        log.info(
            "model %s loaded on %s (%s), up to %d sequences at once",
            model_name,
            self.device,
            self.dtype,
            max_batch,
        )

    async def stream(
        self, request: ChatRequest, *, ignore_eos: bool = False
    ) -> AsyncGenerator[str | Completion, None]:
        """Yields text deltas, then one Completion."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | Completion | BaseException] = asyncio.Queue()

        def emit(item: str | Completion | BaseException) -> None:
            # A loop that has closed has no listener left; the engine must not trip over it.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(queue.put_nowait, item)

        sampling = SamplingParams(request.temperature, request.top_p, request.repetition_penalty)
        self.engine.submit(
            Submission(
                request.messages,
                request.max_new_tokens,
                sampling,
                request.cancelled,
                emit,
                ignore_eos=ignore_eos,
            )
        )
        try:
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
                if isinstance(item, Completion):
                    return
        finally:
            request.cancelled.set()  # a consumer that stops listening frees its slot

    def close(self) -> None:
        self.engine.close()
