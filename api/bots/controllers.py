"""Bots over HTTP: the gallery, create/edit/archive, avatars, a user's customization, preview."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body

from api.accounts.controllers import parse_uuid
from api.auth import current_user
from api.bots.schemas import BotBody, BotOptions, BotView, PersonaFields, Preview
from api.uploads import store_avatar
from commands import accounts, bots, images
from commands.bus import CommandBus
from commands.routing import handle_of
from domain.errors import BotNotFound
from domain.persona import MAX_TRAITS, TRAITS, VISIBILITIES, Persona, Sampling
from domain.user import User
from projections.queries import BotView as BotRow
from projections.queries import ReadModels

Req = Request[Any, Any, Any]


def view_of(row: BotRow, user_id: str) -> BotView:
    persona = row.persona
    avatar = f"/api/blobs/{persona.avatar}" if persona.avatar else f"/api/bots/{row.bot_id}/avatar"
    return BotView(
        id=row.bot_id,
        name=persona.name,
        description=persona.description,
        traits=list(persona.traits),
        traits_text=persona.traits_text,
        greeting=persona.greeting,
        avatar_url=avatar,
        sampling=persona.sampling.as_dict(),
        model=row.model,
        visibility=row.visibility,
        builtin=row.builtin,
        mine=row.owner_id == user_id,
        customized=row.customized,
        handle=handle_of(persona.name),
        system_prompt=persona.system_prompt(),
    )


async def caught_up(request: Req) -> None:
    """Read your writes: the gallery is a projection, so wait for it to include this change."""
    bus: CommandBus = request.app.state.bus
    await bus.run(request.app.state.read.wait_until_caught_up)


async def bot_view(request: Req, user: User, bot_id: str) -> BotView:
    bus: CommandBus = request.app.state.bus
    read: ReadModels = request.app.state.read
    for row in await bus.run(read.bots_for, str(user.id)):
        if row.bot_id == bot_id:
            return view_of(row, str(user.id))
    raise BotNotFound("No such bot.")


class BotController(Controller):
    path = "/api/bots"
    tags = ["bots"]  # noqa: RUF012
    dependencies = {"user": Provide(current_user)}  # noqa: RUF012

    @get("/")
    async def gallery(self, request: Req, user: User) -> list[BotView]:
        bus: CommandBus = request.app.state.bus
        rows = await bus.run(request.app.state.read.bots_for, str(user.id))
        return [view_of(row, str(user.id)) for row in rows]

    @get("/options")
    async def options(self) -> BotOptions:
        return BotOptions(
            traits=list(TRAITS),
            max_traits=MAX_TRAITS,
            sampling_ranges={k: [float(a), float(b)] for k, (a, b) in Sampling.RANGES.items()},
            visibilities=list(VISIBILITIES),
            limits={"name": 40, "description": 300, "traits_text": 500, "greeting": 300},
        )

    @post("/preview")
    async def preview(self, data: PersonaFields) -> Preview:
        persona = Persona.from_fields({"name": "Your bot", **data.changes()}).checked()
        return Preview(system_prompt=persona.system_prompt())

    @post("/", status_code=201)
    async def create(self, request: Req, user: User, data: BotBody) -> BotView:
        bus: CommandBus = request.app.state.bus
        fields = data.changes()
        visibility = fields.pop("visibility", "private")
        bot = await bus.call(
            bots.create_bot, str(user.id), fields, request.app.state.model_name, visibility
        )
        await caught_up(request)
        return await bot_view(request, user, str(bot.id))

    @get("/{bot_id:str}")
    async def one(self, request: Req, user: User, bot_id: str) -> BotView:
        return await bot_view(request, user, str(parse_uuid(bot_id, "bot_id")))

    @patch("/{bot_id:str}")
    async def update(self, request: Req, user: User, bot_id: str, data: BotBody) -> BotView:
        bus: CommandBus = request.app.state.bus
        fields = data.changes()
        visibility = fields.pop("visibility", None)
        bot = await bus.call(
            bots.update_bot, parse_uuid(bot_id, "bot_id"), str(user.id), fields, visibility
        )
        await caught_up(request)
        return await bot_view(request, user, str(bot.id))

    @delete("/{bot_id:str}", status_code=204)
    async def archive(self, request: Req, user: User, bot_id: str) -> None:
        bus: CommandBus = request.app.state.bus
        await bus.call(bots.archive_bot, parse_uuid(bot_id, "bot_id"), str(user.id))
        await caught_up(request)

    @put("/{bot_id:str}/avatar")
    async def upload_avatar(
        self,
        request: Req,
        user: User,
        bot_id: str,
        data: UploadFile = Body(media_type=RequestEncodingType.MULTI_PART),  # noqa: B008
    ) -> BotView:
        bus: CommandBus = request.app.state.bus
        blob_id = await store_avatar(request, data)
        bot = await bus.call(
            bots.update_bot, parse_uuid(bot_id, "bot_id"), str(user.id), {"avatar": blob_id}, None
        )
        await caught_up(request)
        return await bot_view(request, user, str(bot.id))

    @get("/{bot_id:str}/avatar", media_type="image/svg+xml")
    async def default_avatar(self, request: Req, user: User, bot_id: str) -> Response[str]:
        view = await bot_view(request, user, str(parse_uuid(bot_id, "bot_id")))
        return Response(
            images.default_avatar_svg(view.name),
            media_type="image/svg+xml",
            headers={"Cache-Control": "private, max-age=300"},
        )

    @put("/{bot_id:str}/customization")
    async def customize(
        self, request: Req, user: User, bot_id: str, data: PersonaFields
    ) -> BotView:
        """The user's own overrides of a bot they can use (its owner's version is untouched)."""
        bus: CommandBus = request.app.state.bus
        target = parse_uuid(bot_id, "bot_id")
        bot = await bus.call(bots.visible_bot, target, str(user.id))
        overrides = data.changes()
        bot.persona.with_overrides(overrides).checked()  # refuse before anything is stored
        await bus.call(accounts.change_user, user.id, lambda u: u.customize_bot(target, overrides))
        await caught_up(request)
        return await bot_view(request, user, str(bot.id))
