"""Generated chat titles: cleaning the model's answer, and a user's own title always winning."""

from __future__ import annotations

import pytest

from commands.titles import clean_title, title_prompt
from domain.conversation import Conversation
from domain.ids import new_conversation_id


def started() -> Conversation:
    return Conversation(
        id=new_conversation_id("u1", "c1"),
        user_id="u1",
        title="how do i sort a list in p…",
        bot_id="bot-1",
    )


@pytest.mark.parametrize(
    ("raw", "title"),
    [
        ("Sorting Lists in Python", "Sorting Lists in Python"),
        ('"Sorting Lists in Python"', "Sorting Lists in Python"),
        ("Title: Sorting Lists in Python.\nThis chat is about...", "Sorting Lists in Python"),
        ("**Python list sorting**", "Python list sorting"),
        ("\n\n  # French greetings  \n", "French greetings"),
        (
            "one two three four five six seven eight nine ten",
            "one two three four five six seven eight",
        ),
        (
            "Sorting a list of numbers in Python is a common task",
            "Sorting a list of numbers in Python",
        ),
        ("Owls: silent hunters. They fly at night.", "Owls: silent hunters"),
        ("", ""),
        ('""...', ""),
    ],
)
def test_the_first_line_without_labels_quotes_or_markdown_is_the_title(
    raw: str, title: str
) -> None:
    assert clean_title(raw) == title


def test_the_prompt_holds_an_excerpt_of_both_sides() -> None:
    messages = title_prompt("q" * 5000, "a" * 5000)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "q" * 600 in messages[1]["content"] and "q" * 601 not in messages[1]["content"]
    assert "a" * 600 in messages[1]["content"] and "a" * 601 not in messages[1]["content"]


def test_a_generated_title_is_recorded_once() -> None:
    conversation = started()
    assert conversation.generate_title("Sorting lists", "m")
    assert conversation.title == "Sorting lists"
    assert not conversation.generate_title("Another title", "m")
    assert conversation.title == "Sorting lists"
    names = [type(e).__name__ for e in conversation.collect_events()]
    assert names == ["Started", "TitleGenerated"]


def test_a_users_own_title_is_never_replaced() -> None:
    conversation = started()
    conversation.rename("My list questions", by="u1")
    assert not conversation.generate_title("Sorting lists", "m")
    assert conversation.title == "My list questions"


def test_a_user_can_rename_after_a_generated_title() -> None:
    conversation = started()
    conversation.generate_title("Sorting lists", "m")
    conversation.rename("Mine", by="u1")
    assert conversation.title == "Mine"


def test_a_deleted_chat_gets_no_title() -> None:
    conversation = started()
    conversation.delete(by="u1")
    assert not conversation.generate_title("Sorting lists", "m")
