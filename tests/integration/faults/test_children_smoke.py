"""`confab init` against the private services, then a relay child that a kill -9 ends."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.integration.faults import children
from tests.integration.faults.services import PrivateNats, PrivatePostgres

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(120)]


def test_init_creates_the_store_on_the_private_postgres(
    private_pg: PrivatePostgres, private_nats: PrivateNats, tmp_path: Path
) -> None:
    with children.Stack(private_pg, private_nats, tmp_path) as stack:
        with psycopg.connect(stack.conninfo) as conn:
            row = conn.execute("SELECT to_regclass('confab_events') IS NOT NULL").fetchone()
        assert row == (True,)
        (relay,) = stack.start("relay")
        assert relay.poll() is None
        children.kill9(relay)
        assert relay.returncode == -9
