"""Account bodies: msgspec Structs with limits, unknown fields refused."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=60)]


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    pass


class RegisterBody(Strict):
    email: Email
    password: Password
    display_name: Name


class LoginBody(Strict):
    email: Email
    password: Password


class Preferences(Strict):
    theme: str = "system"
    auto_route: bool = False


class ProfileBody(Strict):
    display_name: Name
    preferences: Preferences = msgspec.field(default_factory=Preferences)


class DefaultBotBody(Strict):
    bot_id: str


class TokenBody(Strict):
    name: Name


class Profile(msgspec.Struct):
    user_id: str
    email: str
    display_name: str
    role: str
    avatar_url: str | None
    preferences: dict[str, Any]
    default_bot_id: str | None


class TokenInfo(msgspec.Struct):
    id: str
    name: str


class NewToken(msgspec.Struct):
    id: str
    name: str
    token: str
