"""GET a stored blob (avatars). Ids are content hashes; signed-in users only."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.di import Provide
from litestar.exceptions import NotFoundException

from api.auth import current_user
from domain.user import User


@get("/api/blobs/{blob_id:str}", dependencies={"user": Provide(current_user)}, tags=["files"])
async def blob(request: Request[Any, Any, Any], user: User, blob_id: str) -> Response[bytes]:
    data = request.app.state.blobs.get(blob_id)
    if data is None:
        raise NotFoundException("No such file.")
    return Response(
        data,
        media_type="image/png",
        headers={
            "Cache-Control": "private, max-age=31536000, immutable",
            "Content-Disposition": 'inline; filename="avatar.png"',
            "X-Content-Type-Options": "nosniff",
        },
    )
