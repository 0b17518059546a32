"""A process on its way out closes its NATS client whether or not the broker is there."""

from __future__ import annotations

from pathlib import Path

import nats
import pytest
from nats.errors import ConnectionReconnectingError

from commands.wire import close_nats
from tests.integration.faults.services import PrivateNats
from tests.integration.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(60)]


async def test_a_connected_client_is_drained_and_what_it_published_arrives(
    tmp_path: Path,
) -> None:
    server = PrivateNats(tmp_path / "nats")
    server.start()
    try:
        listener = await nats.connect(server.url)
        got = await listener.subscribe("closing.test")
        await listener.flush()
        nc = await nats.connect(server.url)
        await nc.publish("closing.test", b"last words")
        await close_nats(nc)
        assert nc.is_closed
        assert (await got.next_msg(timeout=5)).data == b"last words"
        await listener.close()
    finally:
        server.stop()


async def test_a_client_whose_broker_is_away_is_closed_not_drained(tmp_path: Path) -> None:
    """A stop during a NATS outage: drain() refuses a reconnecting client, and the processes'
    stops used to fail on it."""
    server = PrivateNats(tmp_path / "nats")
    server.start()
    nc = await nats.connect(server.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    server.stop()

    async def reconnecting() -> bool:
        return nc.is_reconnecting

    await eventually(reconnecting, timeout=10)
    with pytest.raises(ConnectionReconnectingError):
        await nc.drain()
    await close_nats(nc)
    assert nc.is_closed
