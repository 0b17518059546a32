"""How attached files enter a prompt: documents within a budget, images as a note."""

from __future__ import annotations

from workers.attachments import with_attachments

NOTES = {"id": "f1", "name": "notes.md", "kind": "text"}
PHOTO = {"id": "f2", "name": "cat.png", "kind": "image"}
PAPER = {"id": "f3", "name": "paper.pdf", "kind": "pdf"}


def test_a_document_is_put_before_the_message_and_an_image_is_named() -> None:
    history = [("user", "Summarize these.")]
    out = with_attachments(history, [[NOTES, PHOTO]], {"f1": "buy milk"}, 100)
    role, text = out[0]
    assert role == "user"
    assert text.index("buy milk") < text.index("Summarize these.")
    assert "[File attached: notes.md]" in text and "cat.png" in text and "cannot see" in text


def test_the_budget_is_spent_on_the_newest_message_first() -> None:
    history = [("user", "old"), ("assistant", "ok"), ("user", "new")]
    texts = {"f1": "a" * 300, "f3": "b" * 300}
    out = with_attachments(history, [[NOTES], [], [PAPER]], texts, budget_tokens=100)  # 400 chars
    assert "b" * 300 in out[2][1] and "(cut to fit)" not in out[2][1]
    assert "a" * 100 in out[0][1] and "a" * 101 not in out[0][1] and "(cut to fit)" in out[0][1]
    assert out[1] == ("assistant", "ok")


def test_a_document_that_does_not_fit_is_still_named() -> None:
    out = with_attachments([("user", "hi")], [[NOTES]], {"f1": "text"}, budget_tokens=0)
    assert "did not fit" in out[0][1] and "text\n" not in out[0][1]


def test_turns_without_files_are_unchanged() -> None:
    history = [("user", "hi"), ("assistant", "hello")]
    assert with_attachments(history, [(), ()], {}, 100) == history
