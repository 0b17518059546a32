"""The output processor: token ids to text deltas, and the Completion at the end.

Detokenizing incrementally (as vLLM does) decodes only a short window of recent ids each
token, not the whole output; a window that ends inside a multi-byte character is held back
until the character is whole.
"""

from __future__ import annotations

import time
from typing import Any

from domain.conversation import Completion


class Detokenizer:
    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.ids: list[int] = []
        self.prefix = 0  # the window starts here: ids before it are already text
        self.read = 0  # ids up to here have been turned into deltas

    def push(self, token: int) -> str:
        """The text that the new token completes ('' while a character is still partial)."""
        self.ids.append(token)
        decode = self.tokenizer.decode
        before = decode(self.ids[self.prefix : self.read], skip_special_tokens=True)
        after = decode(self.ids[self.prefix :], skip_special_tokens=True)
        if len(after) <= len(before) or after.endswith("\ufffd"):
            return ""
        self.prefix, self.read = self.read, len(self.ids)
        return after[len(before) :]

    def text(self) -> str:
        return str(self.tokenizer.decode(self.ids, skip_special_tokens=True)).strip()


class RequestOutput:
    """One request's stream: the deltas so far, the timings, and how it ended."""

    def __init__(self, tokenizer: Any, model_name: str, prompt_tokens: int, arrived: float):
        self.detokenizer = Detokenizer(tokenizer)
        self.model_name = model_name
        self.prompt_tokens = prompt_tokens
        self.arrived = arrived
        self.first_token_at: float | None = None

    def token(self, token: int) -> str:
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()
        return self.detokenizer.push(token)

    def completion(self, finish_reason: str) -> Completion:
        finished = time.perf_counter()
        first = self.first_token_at or finished
        return Completion(
            text=self.detokenizer.text(),
            finish_reason=finish_reason,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=len(self.detokenizer.ids),
            model=self.model_name,
            ttft_ms=round((first - self.arrived) * 1000, 1),
            total_ms=round((finished - self.arrived) * 1000, 1),
        )
