"""Who is asking: a session cookie (browsers) or `Authorization: Bearer` token (programs)."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from commands import accounts
from commands.bus import CommandBus
from domain.errors import AuthenticationFailed
from domain.user import User

SESSION_COOKIE = "confab_session"
Connection = ASGIConnection[Any, Any, Any, Any]


def credential_of(connection: Connection) -> tuple[str, str] | None:
    header = connection.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return "token", header[7:].strip()
    cookie = connection.cookies.get(SESSION_COOKIE)
    if cookie:
        return "session", cookie
    return None


async def authenticate(connection: Connection) -> User | None:
    credential = credential_of(connection)
    if credential is None:
        return None
    kind, secret = credential
    bus: CommandBus = connection.app.state.bus
    check = accounts.user_for_token if kind == "token" else accounts.user_for_session
    try:
        return await bus.call(check, secret)
    except AuthenticationFailed:
        return None


async def current_user(request: Connection) -> User:
    """A Litestar dependency: the signed-in user, or a 401."""
    user = await authenticate(request)
    if user is None:
        raise NotAuthorizedException("Log in, or send an API token as 'Authorization: Bearer'.")
    return user


async def admin_guard(connection: Connection, _: BaseRouteHandler) -> None:
    user = await authenticate(connection)
    if user is None:
        raise NotAuthorizedException("Log in first.")
    if not user.is_admin:
        raise PermissionDeniedException("This needs the admin role.")
