"""The Litestar application: routes, OpenAPI, the web page, and the process's connections."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.openapi import OpenAPIConfig
from litestar.plugins.prometheus import PrometheusConfig
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler
from nats.aio.client import Client as NATS

from api.accounts.controllers import AuthController, MeController
from api.admin.controllers import AdminController
from api.analytics.controllers import AnalyticsController
from api.blobs import blob
from api.bots.controllers import BotController
from api.conversations.controllers import ConversationController
from api.errors import EXCEPTION_HANDLERS
from api.files.controllers import FileController
from api.hub import Hub
from api.openai.controllers import OpenAIController
from api.schemas import Health, Readiness
from api.search.controllers import SearchController
from api.status.controllers import StatusController
from api.ws import chat_socket
from commands.blobs import BlobStore
from commands.bus import CommandBus
from commands.wire import Subjects, close_nats
from projections.queries import ReadModels
from projections.search.port import SearchView

log = logging.getLogger("confab.api")
READY_TIMEOUT_S = 2.0
# Requests by method, route template and status, and their latency: confab_http_* metrics.
HTTP_METRICS = PrometheusConfig(
    app_name="confab",
    prefix="confab_http",
    group_path=True,
    exclude=["/metrics", "/healthz", "/readyz", "/assets"],
)
MAX_BODY = 8 * 1024 * 1024  # avatars are capped lower by the handlers; this bounds everything


@dataclass
class ApiParts:
    """What the composition root hands the API: the app builds nothing real itself."""

    bus: CommandBus
    read: ReadModels
    blobs: BlobStore
    connect_nats: Callable[[], Awaitable[NATS]]
    subjects: Subjects
    model_name: str
    webui_dir: Path | None
    search: SearchView | None = None
    max_upload_bytes: int = 20 * 2**20
    max_attachments: int = 10


@get("/healthz", tags=["operations"])
async def healthz() -> Health:
    return Health(status="ok")


@get("/readyz", tags=["operations"])
async def readyz(request: Request[Any, Any, Any]) -> Response[Readiness]:
    """200 when PostgreSQL and NATS answer; 503 naming what does not."""
    read: ReadModels = request.app.state.read
    hub: Hub = request.app.state.hub
    checks = {"database": "ok", "nats": "ok" if hub.nc.is_connected else "not connected"}
    try:
        await asyncio.wait_for(asyncio.to_thread(read.ping), READY_TIMEOUT_S)
    except TimeoutError:
        checks["database"] = f"no answer within {READY_TIMEOUT_S:.0f} s"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready, said plainly
        checks["database"] = f"{type(exc).__name__}: {str(exc).strip()[:200]}"
    ready = all(v == "ok" for v in checks.values())
    body = Readiness(status="ready" if ready else "not_ready", checks=checks)
    return Response(body, status_code=200 if ready else 503)


def create_app(parts: ApiParts) -> Litestar:
    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        nc = await parts.connect_nats()
        hub = Hub(nc, parts.subjects)
        await hub.start()
        if parts.search is not None:
            await parts.search.open()
            app.state.update(search=parts.search)
        app.state.update(
            bus=parts.bus,
            hub=hub,
            read=parts.read,
            blobs=parts.blobs,
            model_name=parts.model_name,
            max_upload_bytes=parts.max_upload_bytes,
            max_attachments=parts.max_attachments,
        )
        try:
            yield
        finally:
            await hub.stop()
            await close_nats(nc)
            parts.bus.close()
            parts.read.close()
            if parts.search is not None:
                await parts.search.close()

    route_handlers: list[ControllerRouterHandler] = [
        healthz,
        readyz,
        chat_socket,
        blob,
        AuthController,
        MeController,
        BotController,
        ConversationController,
        AdminController,
        OpenAIController,
        SearchController,
        StatusController,
        AnalyticsController,
        FileController,
    ]
    if parts.webui_dir is not None:
        route_handlers.append(
            create_static_files_router(path="/", directories=[parts.webui_dir], html_mode=True)
        )
    return Litestar(
        route_handlers=route_handlers,
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[HTTP_METRICS.middleware],
        logging_config=None,  # the process configures logging (text or JSON: confab/logs.py)
        request_max_body_size=max(MAX_BODY, parts.max_upload_bytes + 2**20),
        openapi_config=OpenAPIConfig(title="Confab", version="0.1.0", path="/schema"),
    )
