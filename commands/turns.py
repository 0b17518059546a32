"""Changing a conversation after the fact: stop, regenerate, edit, feedback, rename, delete."""

from __future__ import annotations

from uuid import UUID

from commands.accounts import load_user
from commands.app import ConfabStore
from commands.bots import DEFAULT_BOT_ID, visible_bot
from commands.chat import response_settings
from commands.handlers import change, get_conversation
from commands.messages import Accepted
from commands.parsing import parse
from domain.conversation import Conversation, ResponseSettings
from domain.ids import message_id_for, response_id_for


def _mine(store: ConfabStore, conversation_id: UUID, user_id: UUID) -> Conversation:
    return get_conversation(store, conversation_id, str(user_id))


def _settings_for(
    store: ConfabStore, conversation: Conversation, user_id: UUID
) -> ResponseSettings:
    user = load_user(store, user_id)
    bot_id = UUID(conversation.bot_id) if conversation.bot_id else DEFAULT_BOT_ID
    bot = visible_bot(store, bot_id, str(user_id))
    return response_settings(bot, user)


def regenerate(
    store: ConfabStore, conversation_id: UUID, message_id: UUID, user_id: UUID
) -> Accepted:
    """Another response to a message, with the conversation's bot as it is now."""
    found: list[UUID] = []

    def again(conversation: Conversation) -> None:
        settings = _settings_for(store, conversation, user_id)
        found.append(conversation.regenerate(message_id, settings))

    conversation = change(store, lambda: _mine(store, conversation_id, user_id), again)
    message = conversation.turn(message_id, "user")
    return Accepted(conversation.id, message_id, message.client_msg_id, found[-1])


def edit_message(
    store: ConfabStore,
    conversation_id: UUID,
    message_id: UUID,
    user_id: UUID,
    client_msg_id: str,
    text: str,
) -> Accepted:
    """A new version of an earlier message, answered on its own branch. Resends repeat nothing."""
    new_id = message_id_for(conversation_id, client_msg_id)

    def edit(conversation: Conversation) -> None:
        if conversation.message_for_client_id(client_msg_id) is None:
            settings = _settings_for(store, conversation, user_id)
            conversation.edit_message(
                message_id, str(user_id), client_msg_id, text, parse(text).as_dict(), settings
            )

    change(store, lambda: _mine(store, conversation_id, user_id), edit)
    return Accepted(conversation_id, new_id, client_msg_id, response_id_for(new_id))


def cancel_response(
    store: ConfabStore, conversation_id: UUID, response_id: UUID, user_id: UUID
) -> None:
    change(
        store,
        lambda: _mine(store, conversation_id, user_id),
        lambda c: c.cancel_response(response_id, by=str(user_id)),
    )


def give_feedback(
    store: ConfabStore,
    conversation_id: UUID,
    response_id: UUID,
    user_id: UUID,
    rating: int,
    comment: str,
) -> None:
    change(
        store,
        lambda: _mine(store, conversation_id, user_id),
        lambda c: c.give_feedback(response_id, rating, comment, by=str(user_id)),
    )


def rename(store: ConfabStore, conversation_id: UUID, user_id: UUID, title: str) -> Conversation:
    return change(
        store,
        lambda: _mine(store, conversation_id, user_id),
        lambda c: c.rename(title, by=str(user_id)),
    )


def delete(store: ConfabStore, conversation_id: UUID, user_id: UUID) -> None:
    change(
        store,
        lambda: _mine(store, conversation_id, user_id),
        lambda c: c.delete(by=str(user_id)),
    )
