"""Posting a message: parse it, route it to a bot, and ask that bot for a response."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from commands.accounts import load_user
from commands.app import ConfabStore
from commands.bots import DEFAULT_BOT_ID, visible_bot
from commands.envelopes import envelope_of
from commands.handlers import get_conversation, request_of, with_retry_on_conflict
from commands.messages import Accepted, PromptHint
from commands.parsing import ParsedMessage, parse
from commands.read_ahead import cached, reading_ahead
from commands.routing import BotChoice, Embedder, route
from domain.bot import Bot
from domain.conversation import Conversation, ResponseSettings, check_message_text, title_from
from domain.errors import BotNotFound, ConversationNotFound, MessageRejected
from domain.ids import new_conversation_id, response_id_for
from domain.user import User


@dataclass(frozen=True)
class PostMessage:
    user_id: UUID
    client_msg_id: str
    text: str
    conversation_id: UUID | None = None
    bot_id: UUID | None = None  # the bot chosen for a new chat
    # The bots this user can mention, from the read model (the edge gathers them).
    candidates: Sequence[BotChoice] = field(default=())
    # From API clients that send the whole history (OpenAI style): earlier turns recorded in a
    # new conversation, a system prompt that replaces the persona's, sampling overrides.
    context: Sequence[tuple[str, str]] = field(default=())
    system_prompt: str | None = None
    sampling: dict[str, Any] = field(default_factory=dict)
    source: str = "chat"
    parent_id: UUID | None = None  # the turn this message follows; default: the newest
    attachments: Sequence[dict[str, Any]] = field(default=())  # the user's files, checked


def response_settings(bot: Bot, user: User) -> ResponseSettings:
    persona = bot.persona.with_overrides(user.bot_overrides.get(str(bot.id), {}))
    return ResponseSettings(
        bot_id=str(bot.id),
        bot_name=persona.name,
        model=bot.model,
        system_prompt=persona.system_prompt(),
        sampling=persona.sampling.as_dict(),
    )


def post_message(
    store: ConfabStore,
    cmd: PostMessage,
    embedder: Embedder | None = None,
    prompt_turns: int | None = None,
    candidates: Callable[[], Sequence[BotChoice]] | None = None,
) -> Accepted:
    """Appends the message and its ResponseRequested; with `prompt_turns`, the Accepted also
    carries the prompt of that request (at most that many turns of history). `candidates`
    gives the bots the user may use when routing needs them (else `cmd.candidates`)."""
    check_message_text(cmd.text)
    parsed = parse(cmd.text)
    if parsed.command not in (None, "bot") or not parsed.text.strip():
        raise MessageRejected("This command is not a message to a bot.")
    user_id = str(cmd.user_id)

    def attempt() -> Accepted:
        with reading_ahead(store, _likely_reads(store, cmd, user_id)):
            user = load_user(store, cmd.user_id)
            conversation = _existing_conversation(store, cmd, user_id)
            if conversation is not None:
                earlier = conversation.message_for_client_id(cmd.client_msg_id)
                if earlier is not None:
                    return Accepted(
                        conversation.id, earlier.id, cmd.client_msg_id, response_id_for(earlier.id)
                    )
            bot = _routed_bot(
                store,
                cmd,
                parsed,
                user,
                conversation,
                embedder,
                candidates or (lambda: cmd.candidates),
            )
        if conversation is None:
            conversation = Conversation(
                id=new_conversation_id(user_id, cmd.client_msg_id),
                user_id=user_id,
                title=title_from(parsed.text),
                bot_id=str(bot.id),
            )
            for role, text in cmd.context:
                conversation.record_turn(role, text, cmd.source, by=user_id)
        settings = response_settings(bot, user)
        settings = replace(
            settings,
            system_prompt=cmd.system_prompt or settings.system_prompt,
            sampling={**settings.sampling, **cmd.sampling},
        )
        message_id, response_id = conversation.post_message(
            user_id,
            cmd.client_msg_id,
            cmd.text,
            parsed.as_dict(),
            settings,
            cmd.parent_id,
            attachments=list(cmd.attachments),
        )
        recordings = store.save(conversation)
        request = next(
            r for r in recordings if isinstance(r.domain_event, Conversation.ResponseRequested)
        )
        return Accepted(
            conversation.id,
            message_id,
            cmd.client_msg_id,
            response_id,
            envelope_of(request.domain_event, request.notification),  # the event in hand
            _prompt(conversation, response_id, prompt_turns),
        )

    return with_retry_on_conflict(attempt)


def _likely_reads(store: ConfabStore, cmd: PostMessage, user_id: str) -> list[UUID | None]:
    """The aggregates a message loads: its user, its conversation and, as far as the cached
    copies tell, its bot. A guess that misses costs one query of its own, as without it."""
    conversation_id = cmd.conversation_id or new_conversation_id(user_id, cmd.client_msg_id)
    user = cached(store, cmd.user_id)
    conversation = cached(store, conversation_id)
    return [
        cmd.user_id,
        conversation_id,
        cmd.bot_id,
        UUID(conversation.bot_id) if isinstance(conversation, Conversation) else None,
        user.default_bot_id if isinstance(user, User) else None,
        DEFAULT_BOT_ID,
    ]


def _existing_conversation(
    store: ConfabStore, cmd: PostMessage, user_id: str
) -> Conversation | None:
    if cmd.conversation_id is not None:
        return get_conversation(store, cmd.conversation_id, user_id)
    try:
        return get_conversation(store, new_conversation_id(user_id, cmd.client_msg_id), user_id)
    except ConversationNotFound:
        return None


def _routed_bot(
    store: ConfabStore,
    cmd: PostMessage,
    parsed: ParsedMessage,
    user: User,
    conversation: Conversation | None,
    embedder: Embedder | None,
    candidates: Callable[[], Sequence[BotChoice]],
) -> Bot:
    user_id = str(user.id)
    if conversation is None and cmd.bot_id is not None:
        chosen_bot = visible_bot(store, cmd.bot_id, user_id)  # an explicit choice must be usable
        if not parsed.mentions:
            return chosen_bot
    loaded: dict[str, Bot | None] = {}  # each bot route() asks about is loaded once

    def usable(bot_id: str) -> bool:
        if bot_id not in loaded:
            loaded[bot_id] = _usable_bot(store, bot_id, user_id)
        return loaded[bot_id] is not None

    chosen = route(
        parsed,
        candidates,
        usable,
        conversation_bot=conversation.bot_id if conversation else _str(cmd.bot_id),
        default_bot=_str(user.default_bot_id),
        fallback_bot=str(DEFAULT_BOT_ID),
        auto_route=bool(user.preferences.get("auto_route")),
        embedder=embedder,
    )
    return loaded.get(chosen.bot_id) or visible_bot(store, UUID(chosen.bot_id), user_id)


def _usable_bot(store: ConfabStore, bot_id: str, user_id: str) -> Bot | None:
    try:
        return visible_bot(store, UUID(bot_id), user_id)
    except BotNotFound:
        return None


def _prompt(
    conversation: Conversation, response_id: UUID, max_turns: int | None
) -> PromptHint | None:
    if not max_turns:
        return None
    return PromptHint(max_turns, request_of(conversation, response_id, max_turns))


def _str(value: UUID | None) -> str | None:
    return str(value) if value else None


def switch_bot(store: ConfabStore, conversation_id: UUID, user_id: UUID, bot_id: UUID) -> Bot:
    """`/bot NAME` with no message: the conversation's next answers come from that bot."""

    def attempt() -> Bot:
        conversation = get_conversation(store, conversation_id, str(user_id))
        bot = visible_bot(store, bot_id, str(user_id))
        conversation.switch_bot(str(bot.id), by=str(user_id))
        store.save(conversation)
        return bot

    return with_retry_on_conflict(attempt)
