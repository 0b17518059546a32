"""Accounts over HTTP: sign up, log in and out, profile, default bot, API tokens."""

from __future__ import annotations

import contextlib
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.datastructures import Cookie, UploadFile
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body

from api.accounts.schemas import (
    DefaultBotBody,
    LoginBody,
    NewToken,
    Profile,
    ProfileBody,
    RegisterBody,
    TokenBody,
    TokenInfo,
)
from api.auth import SESSION_COOKIE, current_user
from api.uploads import store_avatar
from commands import accounts, bots
from commands.bus import CommandBus
from domain.errors import AuthenticationFailed, InvalidField
from domain.user import User

Req = Request[Any, Any, Any]
SESSION_SECONDS = accounts.SESSION_DAYS * 24 * 3600


def profile_of(user: User) -> Profile:
    return Profile(
        user_id=str(user.id),
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        avatar_url=f"/api/blobs/{user.avatar}" if user.avatar else None,
        preferences=dict(user.preferences),
        default_bot_id=str(user.default_bot_id) if user.default_bot_id else None,
    )


def session_cookie(request: Req, value: str, max_age: int) -> Cookie:
    secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


class AuthController(Controller):
    path = "/api/auth"
    tags = ["accounts"]  # noqa: RUF012

    @post("/register", status_code=201)
    async def register(self, request: Req, data: RegisterBody) -> Response[Profile]:
        bus: CommandBus = request.app.state.bus
        user = await bus.call(accounts.register, data.email, data.password, data.display_name)
        credential = await bus.call(accounts.log_in, data.email, data.password)
        return Response(
            profile_of(user),
            status_code=201,
            cookies=[session_cookie(request, credential.token, SESSION_SECONDS)],
        )

    @post("/login", status_code=200)
    async def login(self, request: Req, data: LoginBody) -> Response[Profile]:
        bus: CommandBus = request.app.state.bus
        credential = await bus.call(accounts.log_in, data.email, data.password)
        user = await bus.call(accounts.load_user, credential.user_id)
        return Response(
            profile_of(user), cookies=[session_cookie(request, credential.token, SESSION_SECONDS)]
        )

    @post("/logout", status_code=204)
    async def logout(self, request: Req) -> Response[None]:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            bus: CommandBus = request.app.state.bus
            with contextlib.suppress(AuthenticationFailed):  # an ended session: quietly
                await bus.call(accounts.log_out, token)
        return Response(None, status_code=204, cookies=[session_cookie(request, "", 0)])


class MeController(Controller):
    path = "/api/me"
    tags = ["accounts"]  # noqa: RUF012
    dependencies = {"user": Provide(current_user)}  # noqa: RUF012

    @get("/")
    async def me(self, user: User) -> Profile:
        return profile_of(user)

    @patch("/")
    async def update(self, request: Req, user: User, data: ProfileBody) -> Profile:
        bus: CommandBus = request.app.state.bus
        preferences = {"theme": data.preferences.theme, "auto_route": data.preferences.auto_route}
        updated = await bus.call(
            accounts.change_user,
            user.id,
            lambda u: u.update_profile(data.display_name, u.avatar, preferences),
        )
        return profile_of(updated)

    @put("/avatar")
    async def avatar(
        self,
        request: Req,
        user: User,
        data: UploadFile = Body(media_type=RequestEncodingType.MULTI_PART),  # noqa: B008
    ) -> Profile:
        bus: CommandBus = request.app.state.bus
        blob_id = await store_avatar(request, data)
        updated = await bus.call(
            accounts.change_user,
            user.id,
            lambda u: u.update_profile(u.display_name, blob_id, {}),
        )
        return profile_of(updated)

    @put("/default-bot")
    async def default_bot(self, request: Req, user: User, data: DefaultBotBody) -> Profile:
        bus: CommandBus = request.app.state.bus
        bot_id = parse_uuid(data.bot_id, "bot_id")
        await bus.call(bots.visible_bot, bot_id, str(user.id))
        updated = await bus.call(
            accounts.change_user, user.id, lambda u: u.choose_default_bot(bot_id)
        )
        return profile_of(updated)

    @get("/tokens")
    async def tokens(self, user: User) -> list[TokenInfo]:
        return [TokenInfo(id=k, name=name) for k, (name, _) in user.tokens.items()]

    @post("/tokens", status_code=201)
    async def create_token(self, request: Req, user: User, data: TokenBody) -> NewToken:
        bus: CommandBus = request.app.state.bus
        credential = await bus.call(accounts.create_token, user.id, data.name)
        token_id = credential.token.split("_")[2]
        return NewToken(id=token_id, name=data.name, token=credential.token)

    @delete("/tokens/{token_id:str}", status_code=204)
    async def revoke_token(self, request: Req, user: User, token_id: str) -> None:
        bus: CommandBus = request.app.state.bus
        await bus.call(accounts.change_user, user.id, lambda u: u.revoke_token(token_id))


def parse_uuid(value: str, field: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise InvalidField(field, f"{field} is not a valid id.") from None
