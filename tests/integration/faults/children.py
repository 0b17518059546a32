"""Confab's own processes (`confab init|relay|worker|api|projector`) as children pointed at
the private PostgreSQL and nats-server, so a test can kill -9 any one of them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.integration.faults.services import PrivateNats, PrivatePostgres

DB_NAME = "confab_faults"
BUS_PREFIX = "confabfaults"


def child_env(
    pg: PrivatePostgres, nats: PrivateNats, data_dir: Path, **extra: str
) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
        "CONFAB_DB_HOST": "127.0.0.1",
        "CONFAB_DB_PORT": str(pg.port),
        "CONFAB_DB_NAME": DB_NAME,
        "CONFAB_NATS_URL": nats.url,
        "CONFAB_BUS_PREFIX": BUS_PREFIX,
        "CONFAB_DATA_DIR": str(data_dir),
        "CONFAB_MAX_NEW_TOKENS": "24",
        "CONFAB_GENERATE_TITLES": "0",
        "CONFAB_WORKER_NICE": "0",
        "CONFAB_LOG_LEVEL": "WARNING",
        **extra,
    }


def confab_init(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "confab", "init"], env=env, check=True, capture_output=True
    )


def start(role: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # one session each: kill -9 hits the child and nothing else
        [sys.executable, "-m", "confab", role], env=env, start_new_session=True
    )


def kill9(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
