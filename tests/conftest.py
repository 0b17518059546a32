"""Shared fixtures. Integration tests use a database and a NATS prefix of their own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from confab.settings import Settings, load_settings

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Test settings: never the user's database, stream or subjects."""
    base = load_settings()
    data_dir = Path(os.environ.get("CONFAB_DATA_DIR", REPO / "data"))
    return load_settings(
        data_dir=data_dir,
        db_name=os.environ.get("CONFAB_TEST_DB_NAME", "confab_test"),
        bus_prefix=os.environ.get("CONFAB_TEST_BUS_PREFIX", "confabtest"),
        api_host="127.0.0.1",
        api_port=0,
        model_dir=base.model_dir or data_dir / "models" / "smollm2-135m-instruct",
        max_new_tokens=48,
        ack_wait_s=10.0,
        log_level="WARNING",
        # Titles come after a reply; tests that count events would race them. test_titles.py
        # runs a stack of its own with them on.
        generate_titles=False,
        # Several stacks run at once in places; PostgreSQL allows 100 connections in all.
        store_threads=4,
    )
