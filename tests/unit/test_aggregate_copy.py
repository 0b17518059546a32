"""The aggregate cache's deep copy (domain/copying.py): equal state, nothing shared that changes."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum

from domain.conversation import Completion, Conversation, ResponseSettings
from domain.copying import copied
from domain.ids import new_conversation_id
from domain.model_version import ModelRegistry
from domain.user import User

SETTINGS = ResponseSettings("bot-1", "Helper", "m", "be nice", {"temperature": 0.0})


def chat_with_two_turns() -> tuple[Conversation, uuid.UUID]:
    conversation = Conversation(
        id=new_conversation_id("u1", "c1"), user_id="u1", title="Hello", bot_id="bot-1"
    )
    _, first = conversation.post_message("u1", "c1", "Hi", {"intent": "greet"}, SETTINGS)
    conversation.complete_response(first, Completion("Hello!", "stop", 10, 2, "m", 5.0, 9.0))
    _, second = conversation.post_message("u1", "c2", "More", {"intent": "x"}, SETTINGS)
    conversation.collect_events()
    return conversation, second


def test_a_copied_conversation_equals_the_original_and_changes_alone() -> None:
    original, pending = chat_with_two_turns()
    clone = copy.deepcopy(original)

    assert type(clone) is Conversation
    assert vars(clone) == vars(original)
    assert all(a is not b for a, b in zip(clone.turns, original.turns, strict=True))

    clone.complete_response(pending, Completion("Sure.", "stop", 20, 2, "m", 5.0, 9.0))
    clone.turns[0].parsed["intent"] = "changed"  # type: ignore[index]
    clone.rename("Renamed", by="u1")

    assert original.response(pending).status == "pending"
    assert original.turns[0].parsed == {"intent": "greet"}
    assert original.title == "Hello"
    assert len(original.turns) == len(clone.turns) == 4
    assert original.version == clone.version - 2


def test_nested_dicts_of_a_user_and_the_model_registry_are_copied() -> None:
    user = User(uuid.uuid4(), "a@b.example", "A", "hash", "user")
    user.customize_bot(uuid.uuid4(), {"sampling": {"temperature": 0.5}})
    registry = ModelRegistry(uuid.uuid4())
    clone_user, clone_registry = copy.deepcopy(user), copy.deepcopy(registry)

    for overrides in clone_user.bot_overrides.values():
        overrides["sampling"]["temperature"] = 1.5
    for version in clone_registry.versions.values():
        version["status"] = "changed"

    assert all(o == {"sampling": {"temperature": 0.5}} for o in user.bot_overrides.values())
    assert "changed" not in {v["status"] for v in registry.versions.values()}


class Colour(Enum):
    RED = "red"


@dataclass(frozen=True)
class Frozen:
    items: list[int] = field(default_factory=list)


def test_immutable_values_are_shared_and_everything_else_is_new() -> None:
    when, ident = datetime.now(UTC), uuid.uuid4()
    tree = {"when": when, "id": ident, "colour": Colour.RED, "frozen": Frozen([1]), "set": {1}}
    clone = copied(tree)

    assert clone == tree
    assert clone["when"] is when and clone["id"] is ident and clone["colour"] is Colour.RED
    assert clone["frozen"] is not tree["frozen"]
    assert clone["frozen"].items is not tree["frozen"].items  # type: ignore[attr-defined]
    assert clone["set"] is not tree["set"]
