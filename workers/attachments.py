"""Files in a prompt: the text of attached documents within a budget, a note for images.

SmolLM2 reads text only: an image is named in the prompt, not shown. Documents are taken
newest message first, each cut to what is left of the budget (~4 characters a token).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

CHARS_PER_TOKEN = 4


def with_attachments(
    history: Sequence[tuple[str, str]],
    attachments: Sequence[Sequence[dict[str, Any]]],
    texts: dict[str, str],
    budget_tokens: int,
) -> list[tuple[str, str]]:
    """`history` with each user turn's files written into it, as the model will read them."""
    left = budget_tokens * CHARS_PER_TOKEN
    out = list(history)
    for index in range(len(history) - 1, -1, -1):
        files = attachments[index] if index < len(attachments) else ()
        role, text = history[index]
        if role != "user" or not files:
            continue
        parts = []
        for file in files:
            body = texts.get(str(file.get("id")), "")
            name = file.get("name", "file")
            if file.get("kind") == "image":
                parts.append(f"[Image attached: {name}. You cannot see images.]")
            elif body and left > 0:
                cut = body[:left]
                left -= len(cut)
                more = " (cut to fit)" if len(cut) < len(body) else ""
                parts.append(f"[File attached: {name}{more}]\n{cut}\n[End of {name}]")
            else:
                parts.append(f"[File attached: {name}; its text did not fit in the prompt.]")
        out[index] = (role, "\n\n".join([*parts, text]))
    return out
