"""Reading a ShareGPT file (`[{"id", "conversations": [{"from", "value"}]}]`) into turns.

ShareGPT holds ChatGPT conversations people shared: linear, without times, so each turn
follows the one before it and takes the time it is imported. `human`/`user` turns are the
user's, `gpt`/`chatgpt`/`bing`/`bard` the assistant's; anything else (`system`) is skipped and
counted. Some published copies are cut off mid-conversation: with `allow_truncated` the
complete conversations before the cut are read (and the cut one counted as skipped);
without it such a file is refused.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import msgspec

from commands.imports import Export, ImportedConversation, ImportedTurn
from domain.conversation import check_message_text, title_from
from domain.errors import ImportRejected, MessageRejected

SOURCE = "sharegpt"
ROLES = {"human": "user", "user": "user", "gpt": "assistant", "chatgpt": "assistant"}
ROLES |= {"bing": "assistant", "bard": "assistant", "assistant": "assistant"}


class _Turn(msgspec.Struct):
    value: str
    from_: str = msgspec.field(name="from")


class _Conversation(msgspec.Struct):
    id: str
    conversations: list[_Turn]


def load_sharegpt(path: Path, allow_truncated: bool = False) -> Export:
    if not path.is_file():
        raise ImportRejected(f"No file {path}.")
    return parse_sharegpt(path.read_bytes(), str(path), allow_truncated)


def parse_sharegpt(
    data: bytes, name: str = "sharegpt.json", allow_truncated: bool = False
) -> Export:
    skipped: Counter[str] = Counter()
    try:
        raw = msgspec.json.decode(data, type=list[_Conversation])
    except msgspec.ValidationError as exc:
        raise ImportRejected(f"{name} is not a ShareGPT file: {exc}") from None
    except msgspec.DecodeError as exc:
        if not (allow_truncated and "truncated" in str(exc)):
            raise ImportRejected(f"{name} is not JSON: {exc}") from None
        raw = _complete_conversations(data, name)
        skipped["conversations cut off at the end of the file"] += 1
    conversations = [_conversation(c, skipped) for c in raw]
    return Export(SOURCE, [c for c in conversations if c.turns], dict(skipped))


def _complete_conversations(data: bytes, name: str) -> list[_Conversation]:
    """The conversations before the point where the file was cut off."""
    text = data.decode("utf-8", errors="replace")
    decoder, found = json.JSONDecoder(), []
    at = text.find("[") + 1
    while at > 0:
        while at < len(text) and text[at] in " \t\r\n,":
            at += 1
        try:
            item, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            break
        found.append(item)
    try:
        return msgspec.convert(found, type=list[_Conversation])
    except msgspec.ValidationError as exc:
        raise ImportRejected(f"{name} is not a ShareGPT file: {exc}") from None


def _conversation(raw: _Conversation, skipped: Counter[str]) -> ImportedConversation:
    turns: list[ImportedTurn] = []
    for index, turn in enumerate(raw.conversations):
        role = ROLES.get(turn.from_)
        if role is None:
            skipped[f"{turn.from_} messages"] += 1
            continue
        try:
            check_message_text(turn.value)
        except MessageRejected:
            skipped["too long messages" if turn.value.strip() else "empty messages"] += 1
            continue
        parent = turns[-1].original_id if turns else None
        turns.append(ImportedTurn(str(index), role, turn.value, None, parent))
    if not turns:
        skipped["conversations without messages"] += 1
    first = next((t.text for t in turns if t.role == "user"), "")
    return ImportedConversation(raw.id, title_from(first) or "Imported chat", None, tuple(turns))
