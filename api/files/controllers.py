"""POST /api/files (multipart "file"), GET /api/files/{id} and its thumbnail: owners only."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body

from api.accounts.controllers import parse_uuid
from api.auth import current_user
from commands.bus import CommandBus
from commands.files import Upload, owned_file, upload_file
from domain.errors import FileNotFound
from domain.file import File
from domain.user import User

Req = Request[Any, Any, Any]
INLINE = {"image/png", "image/jpeg", "image/webp", "image/gif"}


class FileView(msgspec.Struct):
    id: str
    name: str
    media_type: str
    kind: str
    size: int
    url: str
    thumbnail_url: str | None
    text_chars: int


def file_view(file: File) -> FileView:
    url = f"/api/files/{file.id}"
    return FileView(
        id=str(file.id),
        name=file.name,
        media_type=file.media_type,
        kind=file.kind,
        size=file.size,
        url=url,
        thumbnail_url=f"{url}/thumbnail" if file.thumbnail_id else None,
        text_chars=file.text_chars,
    )


def disposition(name: str, inline: bool) -> str:
    """A Content-Disposition no file name can break out of (RFC 6266 / 5987)."""
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


class FileController(Controller):
    path = "/api/files"
    tags = ["files"]  # noqa: RUF012
    dependencies = {"user": Provide(current_user)}  # noqa: RUF012

    @post("/", status_code=201)
    async def upload(
        self,
        request: Req,
        user: User,
        data: UploadFile = Body(media_type=RequestEncodingType.MULTI_PART),  # noqa: B008
    ) -> FileView:
        bus: CommandBus = request.app.state.bus
        limit: int = request.app.state.max_upload_bytes
        content = await data.read(limit + 1)  # one byte more tells "too large"
        upload = Upload(str(user.id), data.filename or "file", content, limit)
        file = await bus.call(upload_file, request.app.state.blobs, upload)
        return file_view(file)

    @get("/{file_id:str}/meta")
    async def meta(self, request: Req, user: User, file_id: str) -> FileView:
        file = await self._owned(request, user, file_id)
        return file_view(file)

    @get("/{file_id:str}")
    async def download(self, request: Req, user: User, file_id: str) -> Response[bytes]:
        file = await self._owned(request, user, file_id)
        return self._bytes(request, file.blob_id, file.media_type, file.name)

    @get("/{file_id:str}/thumbnail")
    async def thumbnail(self, request: Req, user: User, file_id: str) -> Response[bytes]:
        file = await self._owned(request, user, file_id)
        if not file.thumbnail_id:
            raise FileNotFound("This file has no thumbnail.")
        return self._bytes(request, file.thumbnail_id, "image/png", f"{file.name}.png")

    async def _owned(self, request: Req, user: User, file_id: str) -> File:
        bus: CommandBus = request.app.state.bus
        return await bus.call(owned_file, parse_uuid(file_id, "file_id"), str(user.id))

    def _bytes(self, request: Req, blob_id: str, media_type: str, name: str) -> Response[bytes]:
        data = request.app.state.blobs.get(blob_id)
        if data is None:
            raise FileNotFound("The file's content is missing.")
        inline = media_type in INLINE
        return Response(
            data,
            media_type=media_type,
            headers={
                "Content-Disposition": disposition(name, inline),
                "Cache-Control": "private, max-age=31536000, immutable",
                "X-Content-Type-Options": "nosniff",
                # Even a file opened directly can run nothing.
                "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
            },
        )
