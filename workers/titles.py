"""A new chat's title, written by the model from the first exchange once the reply is stored."""

from __future__ import annotations

import logging
from uuid import UUID

from commands.bus import CommandBus
from commands.titles import TITLE_TOKENS, clean_title, record_title, title_prompt
from domain.conversation import Completion
from workers.engine.generator import ChatRequest, Generator

log = logging.getLogger("confab.titles")


async def write_title(
    generator: Generator,
    bus: CommandBus,
    conversation_id: UUID,
    question: str,
    answer: str,
    model: str,
) -> str | None:
    """The title recorded (TitleGenerated), or None: nothing usable, or the user named it."""
    request = ChatRequest(title_prompt(question, answer), max_new_tokens=TITLE_TOKENS)
    raw = ""
    async for item in generator.stream(request):
        if isinstance(item, Completion):
            raw = item.text
    title = clean_title(raw)
    if not title:
        log.info("no usable title for %s from %r", conversation_id, raw)
        return None
    recorded = await bus.call(record_title, conversation_id, title, model)
    return title if recorded else None
