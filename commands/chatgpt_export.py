"""Reading a ChatGPT data export (`conversations.json`, or the .zip it comes in) into turns.

Each conversation is a tree (`mapping`: node id -> message, parent, children); every branch
is kept, in an order where parents come before children and the branch the user last saw
(the one ending at `current_node`) comes last, so it is the branch a transcript continues.
System, tool and hidden messages and non-text content are skipped and counted.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from commands.imports import Export, ImportedConversation, ImportedTurn
from domain.conversation import check_message_text, title_from
from domain.errors import ImportRejected, MessageRejected

SOURCE = "chatgpt"
FILE_NAME = "conversations.json"
TEXT_TYPES = ("text", "multimodal_text")


class _Author(msgspec.Struct):
    role: str


class _Content(msgspec.Struct, kw_only=True):
    content_type: str
    parts: list[Any] | None = None


class _Message(msgspec.Struct, kw_only=True):
    author: _Author
    content: _Content
    create_time: float | None = None
    recipient: str | None = "all"
    metadata: dict[str, Any] | None = None


class _Node(msgspec.Struct, kw_only=True):
    message: _Message | None = None
    parent: str | None = None
    children: list[str] | None = None


class _Conversation(msgspec.Struct, kw_only=True):
    id: str | None = None
    conversation_id: str | None = None
    title: str | None = None
    create_time: float | None = None
    mapping: dict[str, _Node]
    current_node: str | None = None


def load_export(path: Path) -> Export:
    """The export in `path`: a conversations.json, or a ChatGPT export .zip holding one."""
    if not path.is_file():
        raise ImportRejected(f"No file {path}.")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if Path(n).name == FILE_NAME]
            if not names:
                raise ImportRejected(f"{path} is a zip file without a {FILE_NAME}.")
            return parse_export(archive.read(min(names, key=len)), f"{path}:{FILE_NAME}")
    return parse_export(path.read_bytes(), str(path))


def parse_export(data: bytes, name: str = FILE_NAME) -> Export:
    """Every conversation of the export, or ImportRejected naming what is wrong and where."""
    try:
        raw = msgspec.json.decode(data, type=list[_Conversation])
    except msgspec.ValidationError as exc:
        raise ImportRejected(f"{name} is not a ChatGPT export: {exc}") from None
    except msgspec.DecodeError as exc:
        raise ImportRejected(f"{name} is not JSON: {exc}") from None
    skipped: Counter[str] = Counter()
    conversations = [_conversation(c, i, skipped) for i, c in enumerate(raw)]
    empty = sum(1 for c in conversations if not c.turns)
    if empty:
        skipped["conversations without messages"] += empty
    return Export(SOURCE, [c for c in conversations if c.turns], dict(skipped))


def _conversation(raw: _Conversation, index: int, skipped: Counter[str]) -> ImportedConversation:
    original_id = raw.conversation_id or raw.id or f"{raw.create_time}:{raw.title}"
    where = f"conversation {index} ({original_id})"
    if raw.current_node is not None and raw.current_node not in raw.mapping:
        raise ImportRejected(f"{where}: current_node {raw.current_node} is not in its mapping.")
    started_at = _time(raw.create_time, where)
    kept: dict[str, str | None] = {}  # node id -> the nearest kept ancestor's node id
    turns: list[ImportedTurn] = []
    for node_id in _walk(raw.mapping, raw.current_node):
        node = raw.mapping[node_id]
        parent = node.parent if node.parent in raw.mapping else None
        follows = kept.get(parent) if parent is not None else None
        text = _text(node.message, skipped)
        if text is None or node.message is None:
            kept[node_id] = follows
            continue
        kept[node_id] = node_id
        at = _time(node.message.create_time, where) or started_at
        model = str((node.message.metadata or {}).get("model_slug") or "")
        turns.append(ImportedTurn(node_id, node.message.author.role, text, at, follows, model))
    return ImportedConversation(original_id, _title(raw.title, turns), started_at, tuple(turns))


def _walk(mapping: dict[str, _Node], current: str | None) -> Iterator[str]:
    """Node ids, parents first, the branch ending at `current` last among its siblings."""
    on_path: set[str] = set()
    while current is not None and current in mapping and current not in on_path:
        on_path.add(current)
        current = mapping[current].parent
    children: dict[str | None, list[str]] = {}
    for node_id, node in mapping.items():
        parent = node.parent if node.parent in mapping else None
        children.setdefault(parent, []).append(node_id)
    stack = sorted(children.get(None, []), key=lambda n: n not in on_path)
    seen: set[str] = set()
    while stack:
        node_id = stack.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        yield node_id
        stack.extend(sorted(children.get(node_id, []), key=lambda n: n not in on_path))


def _text(message: _Message | None, skipped: Counter[str]) -> str | None:
    """The message's text, or None (counted in `skipped`) when it is not a turn to keep."""
    if message is None:
        return None  # the tree's empty root
    reason = _not_a_turn(message)
    if reason:
        skipped[reason] += 1
        return None
    parts = message.content.parts or []
    texts = [p for p in parts if isinstance(p, str) and p.strip()]
    others = len(parts) - sum(1 for p in parts if isinstance(p, str))
    if others:
        skipped["non-text parts"] += others
    text = "\n\n".join(texts)
    try:
        check_message_text(text)
    except MessageRejected:
        if text.strip():
            skipped["too long messages"] += 1
        elif not others:
            skipped["empty messages"] += 1
        return None
    return text


def _not_a_turn(message: _Message) -> str | None:
    """Why a message is not a turn of the chat (system, tool, hidden, not text), if it is not."""
    role = message.author.role
    if role not in ("user", "assistant"):
        return f"{role} messages"
    if role == "assistant" and message.recipient not in (None, "all"):
        return "tool calls"
    if (message.metadata or {}).get("is_visually_hidden_from_conversation"):
        return "hidden messages"
    if message.content.content_type not in TEXT_TYPES:
        return "non-text messages"
    return None


def _time(epoch: float | None, where: str) -> datetime | None:
    if epoch is None:
        return None
    try:
        return datetime.fromtimestamp(epoch, UTC)
    except (OverflowError, OSError, ValueError):
        raise ImportRejected(f"{where}: {epoch} is not a time.") from None


def _title(title: str | None, turns: list[ImportedTurn]) -> str:
    title = " ".join((title or "").split())
    if title:
        return title[:120]
    first = next((t.text for t in turns if t.role == "user"), "")
    return title_from(first) if first.strip() else "Imported chat"
