"""The model names a new chat after its first reply; the sidebar hears it; a rename wins."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import pytest

from confab.settings import Settings
from tests.integration.conftest import Stack, running_stack
from tests.integration.wsclient import ChatClient


@pytest.fixture(scope="module")
async def titled(settings: Settings) -> AsyncIterator[Stack]:
    own = msgspec.structs.replace(
        settings,
        db_name=f"{settings.db_name}_titles",
        bus_prefix=f"{settings.bus_prefix}titles",
        generate_titles=True,
    )
    async with running_stack(own) as stack:
        yield stack


async def test_a_new_chat_is_named_by_the_model_after_its_first_reply(titled: Stack) -> None:
    account = await titled.register()
    question = "How do I sort a list of numbers in Python? Answer briefly."
    async with ChatClient.connect(titled.ws_url, account.headers) as client:
        accepted, final, _ = await client.turn(question)
        title_frame, _ = await client.until("title")
        # a second exchange in the same chat does not rename it
        await client.turn("And in reverse order?", conversation_id=accepted["conversation_id"])

    conversation_id = accepted["conversation_id"]
    assert final["type"] == "message"
    title = title_frame["title"]
    assert title_frame["conversation_id"] == conversation_id
    assert title and len(title.split()) <= 8 and title != question
    events = titled.stored_events(conversation_id)
    assert events.count("TitleGenerated") == 1
    assert events.index("TitleGenerated") > events.index("ResponseCompleted")
    async with titled.http(account) as http:
        listed = (await http.get("/api/conversations")).json()
    assert {"id": conversation_id, "title": title}.items() <= next(
        c for c in listed if c["id"] == conversation_id
    ).items()


async def test_a_chat_the_user_named_keeps_its_name(titled: Stack) -> None:
    account = await titled.register()
    async with ChatClient.connect(titled.ws_url, account.headers) as client:
        await client.send("Write a long essay about owls, at least 300 words.")
        accepted_frame, _ = await client.until("accepted")
        conversation_id = accepted_frame["conversation_id"]
        async with titled.http(account) as http:
            renamed = await http.patch(
                f"/api/conversations/{conversation_id}", json={"title": "Owl facts"}
            )
        assert renamed.status_code == 200, renamed.text
        await client.until("message")
        first_reply_done = titled.stored_events(conversation_id)
        # the next exchange is not a first one either: no title is ever generated here
        await client.turn("One more, please.", conversation_id=conversation_id)

    assert "TitleGenerated" not in first_reply_done
    assert "TitleGenerated" not in titled.stored_events(conversation_id)
    async with titled.http(account) as http:
        listed = (await http.get("/api/conversations")).json()
    assert next(c for c in listed if c["id"] == conversation_id)["title"] == "Owl facts"
