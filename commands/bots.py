"""Bot handlers: create, update, archive, the built-in bots, and what a user sees of a bot."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from commands.app import ConfabStore
from commands.handlers import change
from domain.bot import Bot, builtin_bot_id
from domain.errors import BotNotFound
from domain.persona import Persona, Sampling

SYSTEM_USER = "system"

BUILTIN_BOTS = {
    "assistant": Persona(
        name="Assistant",
        description="A helpful general assistant for everyday questions.",
        traits=("friendly", "concise"),
        greeting="Hi! What can I help you with today?",
        sampling=Sampling(temperature=0.0, top_p=1.0, max_new_tokens=256, repetition_penalty=1.05),
    ),
    "coder": Persona(
        name="Terse Coder",
        description="Writes, explains and fixes code in Python, JavaScript, SQL and shell.",
        traits=("direct", "precise", "concise"),
        traits_text="Prefer a code block over prose.",
        greeting="Paste code or describe the problem.",
        sampling=Sampling(temperature=0.2, top_p=0.9, max_new_tokens=384, repetition_penalty=1.05),
    ),
    "tutor": Persona(
        name="Patient Tutor",
        description="Explains school subjects such as maths, science and history step by step.",
        traits=("patient", "encouraging", "socratic"),
        greeting="What would you like to learn about?",
        sampling=Sampling(temperature=0.3, top_p=0.9, max_new_tokens=384, repetition_penalty=1.1),
    ),
    "storyteller": Persona(
        name="Storyteller",
        description="Writes short stories, poems and playful descriptions on request.",
        traits=("playful", "witty", "cheerful"),
        greeting="Give me a character, a place or a mood.",
        sampling=Sampling(temperature=0.8, top_p=0.95, max_new_tokens=384, repetition_penalty=1.1),
    ),
}
DEFAULT_BOT_ID = builtin_bot_id("assistant")


def ensure_builtin_bots(store: ConfabStore, model: str) -> int:
    """Create the built-in bots that do not exist yet; their ids are fixed, so this is once."""
    created = 0
    for slug, persona in BUILTIN_BOTS.items():
        bot_id = builtin_bot_id(slug)
        try:
            store.repository.get(bot_id)
            continue
        except AggregateNotFoundError:
            pass
        bot = Bot.create(bot_id, SYSTEM_USER, persona, model, "shared", builtin=True)
        try:
            store.save(bot)
            created += 1
        except IntegrityError:
            continue  # another process created it at the same moment
    return created


def load_bot(store: ConfabStore, bot_id: UUID) -> Bot:
    try:
        bot: object = store.repository.get(bot_id)
    except AggregateNotFoundError:
        raise BotNotFound("No such bot.") from None
    if not isinstance(bot, Bot):
        raise BotNotFound("No such bot.")
    return bot


def visible_bot(store: ConfabStore, bot_id: UUID, user_id: str) -> Bot:
    """A bot the user may use; another user's private bot is reported as missing."""
    bot = load_bot(store, bot_id)
    if not bot.visible_to(user_id):
        raise BotNotFound("No such bot.")
    return bot


def persona_from(fields: dict[str, Any]) -> Persona:
    return Persona.from_fields({"name": "", **fields}).checked()


def create_bot(
    store: ConfabStore, owner_id: str, fields: dict[str, Any], model: str, visibility: str
) -> Bot:
    bot = Bot.create(uuid4(), owner_id, persona_from(fields), model, visibility)
    store.save(bot)
    return bot


def update_bot(
    store: ConfabStore,
    bot_id: UUID,
    by: str,
    fields: dict[str, Any],
    visibility: str | None,
) -> Bot:
    def update(bot: Bot) -> None:
        merged = {**bot.persona.to_fields(), **fields}
        bot.update(by, persona_from(merged), bot.model, visibility or bot.visibility)

    return change(store, lambda: visible_bot(store, bot_id, by), update)


def archive_bot(store: ConfabStore, bot_id: UUID, by: str) -> None:
    change(store, lambda: visible_bot(store, bot_id, by), lambda bot: bot.archive(by))
