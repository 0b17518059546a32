"""The scheduler: which sequences take part in the next step. Pure Python, no torch.

Each step decodes one token for every running sequence whose prompt is in the KV cache, and
spends a budget of prompt tokens on prefilling newcomers, a chunk at a time, so a long prompt
delays the running streams by at most one chunk's worth of compute per step. Sequences wait
in arrival order for a free slot (the concurrency cap is the number of slots); the lowest free
slot is handed out first so the runner usually reads a contiguous block of the cache.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class Sequence:
    seq_id: int
    prompt: list[int]
    max_new_tokens: int
    stop_ids: frozenset[int]
    is_cancelled: Callable[[], bool] = lambda: False
    sampling: Any = None  # opaque here: the engine's sampling parameters
    output: list[int] = field(default_factory=list)
    slot: int | None = None
    computed: int = 0  # prompt tokens already written into the KV cache
    finish_reason: str | None = None

    @property
    def prefilled(self) -> bool:
        return self.computed >= len(self.prompt)

    @property
    def next_position(self) -> int:
        """Where the last sampled token goes in the cache when it is fed back in."""
        return len(self.prompt) + len(self.output) - 1


@dataclass
class ScheduledChunk:
    seq: Sequence
    start: int
    end: int

    @property
    def completes_prompt(self) -> bool:
        return self.end == len(self.seq.prompt)


@dataclass
class Step:
    decodes: list[Sequence] = field(default_factory=list)
    chunks: list[ScheduledChunk] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.decodes and not self.chunks


class Scheduler:
    def __init__(self, max_batch: int, max_len: int, prefill_tokens: int = 256) -> None:
        self.max_len = max_len
        self.prefill_tokens = prefill_tokens
        self.waiting: deque[Sequence] = deque()
        self.running: list[Sequence] = []
        self._free = list(range(max_batch))  # a heap: the lowest slot first

    @property
    def has_work(self) -> bool:
        return bool(self.waiting or self.running)

    def add(self, seq: Sequence) -> None:
        if len(seq.prompt) + seq.max_new_tokens > self.max_len:
            raise ValueError(
                f"{len(seq.prompt)} prompt + {seq.max_new_tokens} new tokens > {self.max_len}"
            )
        self.waiting.append(seq)

    def schedule(self) -> tuple[Step, list[Sequence]]:
        """The next step, and the sequences that were cancelled since the last one."""
        cancelled = self._drop_cancelled()
        while self.waiting and self._free:
            seq = self.waiting.popleft()
            seq.slot = heapq.heappop(self._free)
            self.running.append(seq)
        step = Step(decodes=sorted((s for s in self.running if s.output), key=_slot))
        budget = self.prefill_tokens
        for seq in self.running:  # in admission order: the oldest prompt first
            if budget <= 0:
                break
            if not seq.prefilled:
                end = min(len(seq.prompt), seq.computed + budget)
                step.chunks.append(ScheduledChunk(seq, seq.computed, end))
                budget -= end - seq.computed
        return step, cancelled

    def update(self, step: Step, sampled: list[int]) -> list[Sequence]:
        """Record a step's results; `sampled` holds one token per decode, then per chunk.

        Returns the sequences that finished; their slots are free again.
        """
        finished = []
        rows = [*step.decodes, *(c.seq for c in step.chunks)]
        for chunk in step.chunks:
            chunk.seq.computed = chunk.end
        for seq, token in zip(rows, sampled, strict=True):
            if not seq.prefilled or seq.finish_reason:
                continue  # a partial chunk's last token predicts nothing we keep
            seq.output.append(token)
            if token in seq.stop_ids:
                seq.finish_reason = "stop"
            elif len(seq.output) >= seq.max_new_tokens:
                seq.finish_reason = "length"
            if seq.finish_reason:
                self._release(seq)
                finished.append(seq)
        return finished

    def abort_all(self, reason: str) -> list[Sequence]:
        """Everything waiting or running ends now (the runner failed, or the engine stops)."""
        gone = [*self.running, *self.waiting]
        for seq in gone:
            seq.finish_reason = reason
            if seq.slot is not None:
                self._release(seq)
        self.waiting.clear()
        return gone

    def _drop_cancelled(self) -> list[Sequence]:
        gone = [s for s in [*self.running, *self.waiting] if s.is_cancelled()]
        for seq in gone:
            seq.finish_reason = "cancelled"
            if seq.slot is None:
                self.waiting.remove(seq)
            else:
                self._release(seq)
        return gone

    def _release(self, seq: Sequence) -> None:
        assert seq.slot is not None
        self.running.remove(seq)
        heapq.heappush(self._free, seq.slot)
        seq.slot = None


def _slot(seq: Sequence) -> int:
    assert seq.slot is not None
    return seq.slot
