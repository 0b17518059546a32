from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.faults.services import PrivateNats, PrivatePostgres


@pytest.fixture(scope="package")
def private_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivatePostgres]:
    # Not under pytest's own tmp dir: that is root's, mode 0700, and initdb runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="confab-faultpg-"))
    pg = PrivatePostgres(root)
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="package")
def private_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateNats]:
    nats = PrivateNats(tmp_path_factory.mktemp("faultnats"))
    nats.start()
    yield nats
    nats.stop()
