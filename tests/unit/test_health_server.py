"""ops/health.py over a real socket: readiness names what fails; other paths and methods."""

from __future__ import annotations

import asyncio

import httpx

from ops import health
from ops.health import Check, HealthServer
from tests.integration.conftest import free_port


async def test_readiness_is_503_naming_each_failed_check() -> None:
    async def fine() -> str | None:
        return None

    async def down() -> str | None:
        return "PostgreSQL: connection refused"

    async def broken() -> str | None:
        raise RuntimeError("boom")

    async def stuck() -> str | None:
        await asyncio.sleep(60)
        return None

    health.CHECK_TIMEOUT_S = 0.2
    port = free_port()
    checks: dict[str, Check] = {"nats": fine, "database": down, "relay": broken, "search": stuck}
    server = HealthServer("127.0.0.1", port, checks, lambda: b"confab_up 1\n")
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            ready = await http.get("/readyz")
            assert ready.status_code == 503
            assert ready.json() == {
                "status": "not_ready",
                "checks": {
                    "nats": "ok",
                    "database": "PostgreSQL: connection refused",
                    "relay": "RuntimeError: boom",
                    "search": "no answer within 0 s",
                },
            }
            assert (await http.get("/healthz")).json() == {"status": "ok"}
            metrics = await http.get("/metrics")
            assert metrics.text == "confab_up 1\n"
            assert metrics.headers["content-type"].startswith("text/plain")
            assert (await http.post("/readyz")).status_code == 405
            assert (await http.get("/elsewhere")).status_code == 404
        checks.update(database=fine, relay=fine, search=fine)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/readyz?verbose=1")).json()["status"] == "ready"
    finally:
        health.CHECK_TIMEOUT_S = 2.0
        await server.close()
