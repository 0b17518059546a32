"""Choosing the next token from a step's logits, each row with its own sampling parameters.

The processors follow transformers' order and semantics (repetition penalty over the prompt
and the output so far, then temperature, then top-p), so a request behaves as it did under
`generate`. Greedy rows, the common case, take one batched argmax.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.0
    top_p: float = 1.0
    repetition_penalty: float = 1.0

    def __post_init__(self) -> None:
        # As transformers' processors refuse them: a bad value fails its own request only.
        if not self.temperature >= 0.0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if not self.repetition_penalty > 0.0:
            raise ValueError(f"repetition_penalty must be positive, got {self.repetition_penalty}")

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0


def sample(
    logits: torch.Tensor,
    params: Sequence[SamplingParams],
    histories: Sequence[Sequence[int]],
    generator: torch.Generator | None = None,
) -> list[int]:
    """One token id per row of `logits` [rows, vocab]; histories are prompt + output ids."""
    simple = all(p.greedy and p.repetition_penalty == 1.0 for p in params)
    if simple:
        return [int(t) for t in logits.argmax(dim=-1).tolist()]
    tokens = []
    for row, p, history in zip(logits, params, histories, strict=True):
        scores = row
        if p.repetition_penalty != 1.0:
            scores = _penalize(scores, history, p.repetition_penalty)
        if p.greedy:
            tokens.append(int(scores.argmax()))
        else:
            tokens.append(_draw(scores / p.temperature, p.top_p, generator))
    return tokens


def _penalize(scores: torch.Tensor, history: Sequence[int], penalty: float) -> torch.Tensor:
    # As transformers does: shrink the score of every token seen so far, whatever its sign.
    ids = torch.tensor(sorted(set(history)), dtype=torch.long, device=scores.device)
    seen = scores.gather(0, ids)
    seen = torch.where(seen < 0, seen * penalty, seen / penalty)
    return scores.scatter(0, ids, seen)


def _draw(scores: torch.Tensor, top_p: float, generator: torch.Generator | None) -> int:
    if top_p < 1.0:
        # Keep the smallest set of tokens whose probability reaches top_p (at least one).
        ordered, index = scores.sort(descending=False)
        cumulative = ordered.softmax(dim=-1).cumsum(dim=-1)
        drop = cumulative <= (1 - top_p)
        drop[-1] = False
        scores = scores.scatter(0, index[drop], float("-inf"))
    probs = scores.softmax(dim=-1)
    return int(torch.multinomial(probs, 1, generator=generator))
