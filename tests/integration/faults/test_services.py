"""The private services themselves: stopping them is a fault the shared ones never see."""

from __future__ import annotations

import psycopg
import pytest

from tests.integration.faults.services import PrivateNats, PrivatePostgres, _accepts

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(90)]


def test_private_postgres_stops_and_starts_keeping_its_data(private_pg: PrivatePostgres) -> None:
    with psycopg.connect(private_pg.conninfo(), autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS kept (n int)")
        conn.execute("INSERT INTO kept VALUES (7)")
    private_pg.stop()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(private_pg.conninfo(), connect_timeout=2)
    private_pg.start()
    with psycopg.connect(private_pg.conninfo()) as conn:
        row = conn.execute("SELECT count(*) FROM kept WHERE n = 7").fetchone()
    assert row is not None
    assert row[0] >= 1


def test_private_nats_restarts(private_nats: PrivateNats) -> None:
    private_nats.stop()
    assert not _accepts(private_nats.port)
    private_nats.start()
    assert _accepts(private_nats.port)
