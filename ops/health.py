"""A process's health, readiness and metrics over HTTP: GET /healthz, /readyz and /metrics.

The relay, projector and worker serve this on `CONFAB_HEALTH_PORT` (the API serves the same
three paths itself). A few lines of HTTP/1.1 over asyncio streams: probes and Prometheus ask
one short question per connection, so no framework is needed.

- /healthz: 200 while the process's event loop answers (liveness).
- /readyz: 200 when every readiness check passes, else 503 naming the failed ones.
- /metrics: the Prometheus text exposition of the process's metrics.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

Check = Callable[[], Awaitable[str | None]]
"""A readiness check: None when fine, else a short reason."""

CHECK_TIMEOUT_S = 2.0
log = logging.getLogger("confab.health")


class HealthServer:
    def __init__(
        self,
        host: str,
        port: int,
        checks: dict[str, Check],
        metrics: Callable[[], bytes],
    ) -> None:
        self.host = host
        self.port = port
        self.checks = checks
        self.metrics = metrics
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        log.info("health, readiness and metrics on http://%s:%d", self.host, self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def readiness(self) -> dict[str, str]:
        """Each check's outcome: "ok" or why not."""

        async def run(check: Check) -> str:
            try:
                reason = await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
            except TimeoutError:
                return f"no answer within {CHECK_TIMEOUT_S:.0f} s"
            except Exception as exc:  # noqa: BLE001 - a failing check is an answer, not a crash
                return f"{type(exc).__name__}: {exc}"
            return reason or "ok"

        names = list(self.checks)
        outcomes = await asyncio.gather(*(run(self.checks[n]) for n in names))
        return dict(zip(names, outcomes, strict=True))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), CHECK_TIMEOUT_S)
            method, path = _request_line(request)
            status, kind, body = await self._answer(method, path)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            status, kind, body = 400, "application/json", _json({"error": "bad_request"})
        head = (
            f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: {kind}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        try:
            writer.write(head.encode() + (b"" if method == "HEAD" else body))
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _answer(self, method: str, path: str) -> tuple[int, str, bytes]:
        if method not in ("GET", "HEAD"):
            return 405, "application/json", _json({"error": "method_not_allowed"})
        path = path.split("?", 1)[0]
        if path == "/healthz":
            return 200, "application/json", _json({"status": "ok"})
        if path == "/readyz":
            checks = await self.readiness()
            ready = all(v == "ok" for v in checks.values())
            body = {"status": "ready" if ready else "not_ready", "checks": checks}
            return (200 if ready else 503), "application/json", _json(body)
        if path == "/metrics":
            return 200, "text/plain; version=0.0.4; charset=utf-8", self.metrics()
        return 404, "application/json", _json({"error": "not_found", "path": path})


def _request_line(request: bytes) -> tuple[str, str]:
    parts = request.split(b"\r\n", 1)[0].decode("latin-1").split()
    if len(parts) != 3:
        raise asyncio.IncompleteReadError(request, None)
    return parts[0], parts[1]


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    503: "Service Unavailable",
}
