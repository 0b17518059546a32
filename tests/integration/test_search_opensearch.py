"""With OPENSEARCH_URL set: the search projector follows the real log into OpenSearch (osmem),
and `confab replay search` rebuilds and checks that index while the projector keeps running."""

from __future__ import annotations

import asyncio
import sys

import msgspec
import psycopg
from osmem_server import OsmemClone

from confab import bootstrap
from projections.search.port import SearchQuery
from tests.integration.conftest import Account, Stack
from tests.integration.test_search import caught_up
from tests.integration.waiting import eventually
from tests.integration.wsclient import ChatClient
from workers.search_projector import SearchProjector


async def confab_with(stack: Stack, url: str, *args: str) -> tuple[int, str, str]:
    env = {
        "CONFAB_DB_NAME": stack.settings.db_name,
        "CONFAB_BUS_PREFIX": stack.settings.bus_prefix,
        "CONFAB_DATA_DIR": str(stack.settings.data_dir),
        "CONFAB_LOG_LEVEL": "WARNING",
        "OPENSEARCH_URL": url,
        "PATH": "/usr/bin:/bin",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "confab",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    return process.returncode or 0, out.decode(), err.decode()


def head(stack: Stack) -> int:
    with psycopg.connect(stack.settings.conninfo()) as conn:
        row = conn.execute("SELECT coalesce(max(notification_id), 0) FROM confab_events")
        return int(row.fetchone()[0])  # type: ignore[index]


async def test_the_opensearch_view_follows_the_log_and_rebuilds_while_live(
    stack: Stack, alice: Account, bob: Account, osmem_clone: OsmemClone
) -> None:
    async with ChatClient.connect(stack.ws_url, alice.headers) as client:
        await client.turn("Kittiwakes nest on cliffs")
    await caught_up(stack)
    settings = msgspec.structs.replace(stack.settings, opensearch_url=osmem_clone.url)
    bus = bootstrap.build_bus(settings)
    view = bootstrap.build_search_view(settings, size=2)
    await view.open()
    projector = SearchProjector(bus, settings.conninfo(), view)
    following = asyncio.create_task(projector.run())
    try:

        async def indexed() -> bool:
            return await view.position() >= head(stack)

        await eventually(indexed)
        mine = await view.search(SearchQuery(alice.user_id, "kittiwakes", role="user"))
        theirs = await view.search(SearchQuery(bob.user_id, "kittiwakes"))
        assert view.engine == "opensearch"
        assert [h.role for h in mine.hits] == ["user"] and theirs.total == 0
        assert "<mark>Kittiwakes</mark>" in mine.hits[0].snippet

        checked, out, err = await confab_with(stack, osmem_clone.url, "replay", "search", "--check")
        rebuilt, _, rebuild_err = await confab_with(stack, osmem_clone.url, "replay", "search")
        async with ChatClient.connect(stack.ws_url, alice.headers) as client:
            await client.turn("Kittiwakes again, after the rebuild")
        await eventually(indexed)

        assert checked == 0, err
        assert "search (opensearch)" in out
        assert rebuilt == 0, rebuild_err
        again = await view.search(SearchQuery(alice.user_id, "kittiwakes", role="user"))
        assert again.total == 2
    finally:
        projector.stopping.set()
        await following
        await view.close()
        bus.close()
