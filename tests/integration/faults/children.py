"""Confab's own processes (`confab init|relay|worker|api|projector`) as children pointed at
the private PostgreSQL and nats-server, so a test can kill -9 any one of them.

Each test gets its own database and bus prefix (so its own stream and consumer): what one
fault test did to the log or the broker cannot leak into the next.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from confab.settings import Settings
from tests.integration.faults.services import PrivateNats, PrivatePostgres, free_port

ROOT = Path(__file__).resolve().parents[3]


def child_env(
    pg: PrivatePostgres, nats: PrivateNats, data_dir: Path, **extra: str
) -> dict[str, str]:
    name = f"faults_{uuid.uuid4().hex[:8]}"
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CONFAB_DB_HOST": "127.0.0.1",
        "CONFAB_DB_PORT": str(pg.port),
        "CONFAB_DB_NAME": name,
        "CONFAB_NATS_URL": nats.url,
        "CONFAB_BUS_PREFIX": name,
        "CONFAB_DATA_DIR": str(data_dir),
        "CONFAB_MODEL_DIR": str(Settings().model_path),
        "CONFAB_MAX_NEW_TOKENS": "8",
        "CONFAB_GENERATE_TITLES": "0",
        "CONFAB_ENGINE_PRIORITY": "normal",
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


class Stack:
    """One test's Confab: an initialised database, and the children it started."""

    def __init__(self, pg: PrivatePostgres, nats: PrivateNats, data_dir: Path, **extra: str):
        self.port = free_port()
        self.env = child_env(pg, nats, data_dir, CONFAB_PORT=str(self.port), **extra)
        self.conninfo = pg.conninfo(self.env["CONFAB_DB_NAME"])
        self.subjects_prefix = self.env["CONFAB_BUS_PREFIX"]
        self.children: list[subprocess.Popen[bytes]] = []
        confab_init(self.env)

    def start(self, *roles: str) -> list[subprocess.Popen[bytes]]:
        started = [start(role, self.env) for role in roles]
        self.children.extend(started)
        return started

    def kill_all(self) -> None:
        for child in self.children:
            if child.poll() is None:
                kill9(child)

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill_all()
