"""The engine loop: schedule, run one step, sample, hand out the new tokens; on its own thread.

Requests arrive from any thread through `submit`; the loop picks them up between steps, so a
request joins the running batch at the next step and leaves it the step it finishes. Each
request's deltas and final Completion go to its `emit` callback (the Generator turns that into
`call_soon_threadsafe` on its event loop).

The engine thread also loads the model (`load`): torch's OpenMP pool belongs to the thread
that runs parallel work, and while a second such thread is alive (the one that loaded the
weights, say, kept by an executor) libgomp counts more threads than cores and its workers stop
spinning between ops, which made every step ~50% slower on a 2-core machine.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from domain.conversation import Completion
from workers.engine.output import RequestOutput
from workers.engine.runner import Chunk, Runner, StepInput
from workers.engine.sampling import SamplingParams, sample
from workers.engine.scheduler import Scheduler, Sequence, Step

log = logging.getLogger("confab.engine")

Emit = Callable[[str | Completion | BaseException], None]


@dataclass
class Submission:
    """A request as the engine takes it: chat messages or prompt ids, and where output goes."""

    prompt: list[dict[str, str]] | list[int]
    max_new_tokens: int
    sampling: SamplingParams
    cancelled: threading.Event
    emit: Emit
    arrived: float = field(default_factory=time.perf_counter)
    ignore_eos: bool = False  # benchmarks: every answer exactly max_new_tokens long


class Engine:
    def __init__(
        self,
        load: Callable[[], Any],
        tokenizer: Any,
        model_name: str,
        *,
        max_batch: int = 16,
        max_len: int = 2048,
        prefill_tokens: int = 512,
        seed: int | None = None,
        int8_narrow: bool = False,
    ) -> None:
        self.tokenizer = tokenizer
        self.model_name = model_name
        self.max_len = max_len
        self.scheduler = Scheduler(max_batch, max_len, prefill_tokens)
        self._inbox: queue.SimpleQueue[Submission] = queue.SimpleQueue()
        self._outputs: dict[int, tuple[Submission, RequestOutput]] = {}
        self._ids = itertools.count()
        self._wake = threading.Event()
        self._stopping = False
        self.steps = 0
        ready = threading.Event()
        failure: list[BaseException] = []

        def start() -> None:
            try:
                self._build(load(), max_batch, max_len, seed, int8_narrow)
            except BaseException as exc:  # noqa: BLE001 - handed to the constructor's thread
                failure.append(exc)
                return
            finally:
                ready.set()
            self._loop()

        self._thread = threading.Thread(target=start, name="engine", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]

    def _build(
        self, model: Any, max_batch: int, max_len: int, seed: int | None, int8_narrow: bool
    ) -> None:
        """On the engine thread: everything that runs torch's parallel ops."""
        self.model = model
        eos = model.generation_config.eos_token_id
        # The chat template ends a turn with <|im_end|>, which the generation config names and
        # the tokenizer's own eos token may not.
        self.stop_ids = frozenset(
            {self.tokenizer.eos_token_id, *(eos if isinstance(eos, list) else [eos])}
        )
        self.runner = Runner(model, max_batch, max_len, int8_narrow=int8_narrow)
        self.generator = torch.Generator(device=self.runner.device)
        self.generator.manual_seed(seed if seed is not None else torch.seed())

    def submit(self, submission: Submission) -> None:
        self._inbox.put(submission)
        self._wake.set()

    def close(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join()

    @property
    def busy(self) -> int:
        """Sequences admitted or waiting (for tests and metrics)."""
        return len(self.scheduler.running) + len(self.scheduler.waiting)

    def _loop(self) -> None:
        while not self._stopping:
            self._admit()
            if not self.scheduler.has_work:
                self._wake.wait()
                self._wake.clear()
                continue
            try:
                self._step()
            except Exception as exc:
                log.exception("engine step failed; failing the requests in it")
                for seq in self.scheduler.abort_all("error"):
                    submission, _ = self._outputs.pop(seq.seq_id)
                    submission.emit(exc)
        closed = RuntimeError("the engine was closed")
        self._admit()
        for seq in self.scheduler.abort_all("cancelled"):
            self._outputs.pop(seq.seq_id)[0].emit(closed)

    def _admit(self) -> None:
        while not self._inbox.empty():
            sub = self._inbox.get()
            try:
                prompt = self._encode(sub.prompt)
                seq = Sequence(
                    seq_id=next(self._ids),
                    prompt=prompt,
                    max_new_tokens=max(1, min(sub.max_new_tokens, self.max_len // 2)),
                    stop_ids=frozenset() if sub.ignore_eos else self.stop_ids,
                    is_cancelled=sub.cancelled.is_set,
                    sampling=sub.sampling,
                )
                self.scheduler.add(seq)
            except Exception as exc:  # noqa: BLE001 - a bad request fails alone
                sub.emit(exc)
                continue
            output = RequestOutput(self.tokenizer, self.model_name, len(prompt), sub.arrived)
            self._outputs[seq.seq_id] = (sub, output)

    def _encode(self, prompt: list[dict[str, str]] | list[int]) -> list[int]:
        ids: list[int] = (
            self.tokenizer.apply_chat_template(prompt, add_generation_prompt=True)
            if prompt and isinstance(prompt[0], dict)
            else list(prompt)  # type: ignore[arg-type]
        )
        # Room for the longest answer we allow; a longer history loses its oldest tokens.
        room = self.max_len - self.max_len // 2
        if len(ids) > room:
            log.warning("prompt of %d tokens cut to its last %d", len(ids), room)
            ids = ids[-room:]
        return ids

    def _step(self) -> None:
        step, cancelled = self.scheduler.schedule()
        for seq in cancelled:
            self._finish(seq)
        if step.empty:
            return
        logits = self.runner.forward(_step_input(step))
        rows = [*step.decodes, *(c.seq for c in step.chunks)]
        tokens = sample(
            logits,
            [s.sampling for s in rows],
            [s.prompt + s.output for s in rows] if _penalized(rows) else [[] for _ in rows],
            self.generator,
        )
        self.steps += 1
        finished = self.scheduler.update(step, tokens)
        for seq in rows:
            self._deliver(seq)
        for seq in finished:
            self._finish(seq)

    def _deliver(self, seq: Sequence) -> None:
        submission, output = self._outputs[seq.seq_id]
        if len(output.detokenizer.ids) == len(seq.output):
            return  # no new token this step: its prompt chunk was partial
        delta = output.token(seq.output[-1])
        if delta:
            submission.emit(delta)

    def _finish(self, seq: Sequence) -> None:
        submission, output = self._outputs.pop(seq.seq_id)
        submission.emit(output.completion(seq.finish_reason or "stop"))


def _step_input(step: Step) -> StepInput:
    def slot(seq: Sequence) -> int:
        assert seq.slot is not None
        return seq.slot

    return StepInput(
        decode_slots=[slot(s) for s in step.decodes],
        decode_tokens=[s.output[-1] for s in step.decodes],
        decode_positions=[s.next_position for s in step.decodes],
        chunks=[Chunk(slot(c.seq), c.start, c.seq.prompt[c.start : c.end]) for c in step.chunks],
    )


def _penalized(rows: list[Sequence]) -> bool:
    return any(s.sampling.repetition_penalty != 1.0 for s in rows)
