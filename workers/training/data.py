"""Dataset rows as training tensors: the prompt exactly as the engine builds it, the answer after.

The engine prompts with the tokenizer's chat template and a generation prompt; an example is
that prompt followed by the response and the end-of-turn token. Only the response's tokens
are learned (the prompt's labels are -100). A too-long example loses its oldest tokens, as
the engine's prompt does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch

IGNORE = -100


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    labels: list[int]


def encode(tokenizer: Any, messages: list[dict[str, str]], max_len: int) -> Encoded | None:
    """One example's tokens and labels; None when no token of the answer would be learned."""
    if len(messages) < 2:  # an answer with no prompt teaches nothing
        return None
    prompt = list(tokenizer.apply_chat_template(messages[:-1], add_generation_prompt=True))
    full = list(tokenizer.apply_chat_template(messages))
    if full[: len(prompt)] != prompt:  # the template rendered the history differently
        return None
    labels = [IGNORE] * len(prompt) + full[len(prompt) :]
    full, labels = full[-max_len:], labels[-max_len:]
    if all(label == IGNORE for label in labels[1:]):
        return None
    return Encoded(full, labels)


def encode_rows(tokenizer: Any, rows: list[dict[str, Any]], max_len: int) -> list[Encoded]:
    found = (encode(tokenizer, list(row["messages"]), max_len) for row in rows)
    return [e for e in found if e is not None]


def collate(examples: list[Encoded], pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, e in enumerate(examples):
        n = len(e.input_ids)
        ids[row, :n] = torch.tensor(e.input_ids)
        labels[row, :n] = torch.tensor(e.labels)
        mask[row, :n] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def batch_for_step(examples: list[Encoded], batch_size: int, step: int, seed: int) -> list[Encoded]:
    """The batch of optimizer step `step`: a function of the step alone, so a resume repeats it.

    Each epoch is a fresh permutation seeded by (seed, epoch).
    """
    per_epoch = max(1, len(examples) // batch_size)
    epoch, offset = divmod(step, per_epoch)
    order = torch.randperm(len(examples), generator=torch.Generator().manual_seed(seed + epoch))
    picked = order[offset * batch_size : (offset + 1) * batch_size].tolist()
    return [examples[i] for i in picked]


def in_batches(examples: list[Encoded], batch_size: int) -> Iterator[list[Encoded]]:
    for start in range(0, len(examples), batch_size):
        yield examples[start : start + batch_size]
