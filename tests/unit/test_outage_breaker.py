"""The store's circuit breaker: closed until a call finds PostgreSQL down; then calls fail at
once, with at most one probe per interval, until a probe connects."""

from __future__ import annotations

import psycopg
import pytest

from commands.outages import STORE_UNAVAILABLE, Outage, StoreUnavailable


class Probe:
    def __init__(self) -> None:
        self.up = False
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if not self.up:
            raise psycopg.OperationalError("connection refused")


async def test_closed_breaker_lets_calls_through_without_probing() -> None:
    probe = Probe()
    outage = Outage(probe, probe_every_s=0.0)
    await outage.check()
    assert probe.calls == 0
    assert not outage.down


async def test_tripped_breaker_refuses_at_once_between_probes() -> None:
    probe = Probe()
    outage = Outage(probe, probe_every_s=3600.0)
    outage.trip()
    for _ in range(3):
        with pytest.raises(StoreUnavailable):
            await outage.check()
    assert probe.calls == 0  # within the interval: no connection attempts at all
    assert isinstance(StoreUnavailable("x"), STORE_UNAVAILABLE)


async def test_probe_that_connects_closes_the_breaker() -> None:
    probe = Probe()
    outage = Outage(probe, probe_every_s=0.0)
    outage.trip()
    with pytest.raises(StoreUnavailable):
        await outage.check()
    assert probe.calls == 1
    probe.up = True
    await outage.check()
    assert not outage.down
    await outage.check()
    assert probe.calls == 2  # closed again: no more probes
