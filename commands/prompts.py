"""The prompt a ResponseRequested asks for, carried beside it on the API's early publish.

The API holds the conversation it has just saved, so it can say what the worker would read
back from the log: the history (at most `max_turns` turns), system prompt and sampling. It goes
as a header of the early copy of the event, which JetStream keeps (the relay's copy is the
duplicate). A worker uses it on a first delivery only when it asks for as many turns as the
API did; otherwise, and for every redelivery or relay-published copy, it reads the log.
"""

from __future__ import annotations

import base64
import binascii

import msgspec

from commands.messages import GenerationRequest, PromptHint

PROMPT_HEADER = "Confab-Prompt"
MOST_BYTES = 32 * 1024  # a longer prompt is read from the log: headers are not for bulk


def prompt_header(hint: PromptHint) -> str | None:
    """The header value, or None where the prompt is too long to carry."""
    value = base64.b64encode(msgspec.json.encode(hint))
    return value.decode() if len(value) <= MOST_BYTES else None


def prompt_from(value: str | None, max_turns: int) -> GenerationRequest | None:
    """The carried prompt if it was built for `max_turns` turns; None if absent or unusable."""
    if not value:
        return None
    try:
        hint = msgspec.json.decode(base64.b64decode(value, validate=True), type=PromptHint)
    except (binascii.Error, msgspec.DecodeError, ValueError):
        return None
    return hint.request if hint.max_turns == max_turns else None
