"""Uploaded images: read within the size cap, checked and resized off the event loop, stored."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import UploadFile

from commands import images
from commands.bus import CommandBus


async def store_avatar(request: Request[Any, Any, Any], upload: UploadFile) -> str:
    """The blob id of the upload as a 256 px PNG avatar, or InvalidField('avatar')."""
    bus: CommandBus = request.app.state.bus
    data = await upload.read(images.MAX_AVATAR_BYTES + 1)  # one byte more tells "too large"
    png = await bus.run(images.avatar_png, data)
    return str(await bus.run(request.app.state.blobs.put, png))
