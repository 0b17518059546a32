"""Analytics for admins only, and the projections' lag on the status endpoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from projections.lag import lag_of
from tests.integration.conftest import Account, Stack
from tests.integration.test_cli import confab
from tests.integration.test_search import caught_up
from tests.integration.wsclient import ChatClient


async def test_analytics_refuse_anyone_but_an_admin(stack: Stack) -> None:
    user = await stack.register()  # not a shared fixture: other tests may make those admins
    async with stack.http(user) as http:
        refused = await http.get("/api/admin/analytics")
    async with stack.http() as http:
        anonymous = await http.get("/api/admin/analytics")
    assert refused.status_code == 403 and "error" in refused.json()
    assert anonymous.status_code == 401


async def test_an_admin_sees_messages_users_bots_latency_and_terms(stack: Stack) -> None:
    admin = await stack.register()
    code, _, err = await confab(stack, "admin", "grant", admin.email)
    assert code == 0, err
    # Only this test's messages: earlier ones (imports of old history) have terms of their own.
    since = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    async with ChatClient.connect(stack.ws_url, admin.headers) as client:
        await client.turn("Zeppelins and zeppelins: tell me about zeppelins")
    await caught_up(stack)

    async with stack.http(admin) as http:
        report = (
            await http.get("/api/admin/analytics", params={"terms": 100, "since": since})
        ).json()
        empty = await http.get("/api/admin/analytics", params={"until": "2000-01-01T00:00:00Z"})
        backwards = await http.get(
            "/api/admin/analytics",
            params={"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        )

    assert report["search_engine"] == "postgres"
    assert report["messages"] >= 2 and report["active_users"] >= 1
    assert sum(d["messages"] for d in report["days"]) == report["messages"]
    assert "Assistant" in {b["bot_name"] for b in report["bots"]}
    assert report["latency_p50_ms"] > 0 and report["latency_p95_ms"] >= report["latency_p50_ms"]
    assert report["tokens"] > 0
    assert "zeppelins" in {t["term"] for t in report["top_terms"]}
    assert empty.status_code == 200 and empty.json()["messages"] == 0
    assert backwards.status_code == 422 and backwards.json()["error"]["field"] == "until"


async def test_the_status_endpoint_and_metrics_show_each_projections_lag(
    stack: Stack, alice: Account
) -> None:
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        await client.turn("Hello status")
    await caught_up(stack)
    async with stack.http() as http:
        status = (await http.get("/api/status")).json()
        metrics = (await http.get("/metrics")).text

    lags = {p["name"]: p for p in status["projections"]}
    assert set(lags) == {"relay", "read_models", "search"}
    assert lags["search"]["lag_events"] == 0 and lags["search"]["lag_seconds"] == 0
    assert lags["search"]["position"] == lags["search"]["head"] > 0
    assert 'confab_projection_lag_events{projection="search"} 0' in metrics
    assert 'confab_projection_lag_seconds{projection="read_models"}' in metrics
    with psycopg.connect(stack.settings.conninfo()) as conn:
        fresh = lag_of(conn, "fresh", 0, datetime.now(UTC))
        stored = conn.execute("SELECT count(*) FROM confab_events").fetchone()
    assert stored is not None and fresh.events == stored[0] and fresh.seconds > 0
