"""Administration: everything about other users needs the admin role (a guard)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get

from api.auth import admin_guard
from commands.bus import CommandBus

Req = Request[Any, Any, Any]


class UserRow(msgspec.Struct):
    user_id: str
    email: str
    display_name: str
    role: str
    registered_at: str


class AdminController(Controller):
    path = "/api/admin"
    tags = ["admin"]  # noqa: RUF012
    guards = [admin_guard]  # noqa: RUF012

    @get("/users")
    async def users(self, request: Req) -> list[UserRow]:
        bus: CommandBus = request.app.state.bus
        rows = await bus.run(request.app.state.read.users)
        return [
            UserRow(
                user_id=str(r["user_id"]),
                email=r["email"],
                display_name=r["display_name"],
                role=r["role"],
                registered_at=r["registered_at"].isoformat(),
            )
            for r in rows
        ]
