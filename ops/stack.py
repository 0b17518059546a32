"""`confab up`: nginx, relay, projector, workers and APIs as children, in the foreground.

A child that dies is started again after a short back-off (a crashed worker's requests are
redelivered, a crashed API's clients reconnect through nginx), unless it keeps dying right after
it starts, which means it cannot run at all: then everything is stopped. Ctrl-C (or SIGTERM) is
passed to every child, which drains and exits; a child still running after a grace period is
killed. The names, process ids and ports of the children are kept in a JSON status file, so an
operator (or a fault test) can find the process behind each port.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

GRACE_S = 15.0
POLL_S = 0.2
QUICK_DEATH_S = 5.0  # a child that dies this soon after starting counts as failing to start
MAX_QUICK_DEATHS = 5
MAX_BACKOFF_S = 10.0


@dataclass(frozen=True)
class Child:
    """One process of the stack: a name, its command line and the environment it adds."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    port: int | None = None


@dataclass
class _Running:
    child: Child
    process: subprocess.Popen[bytes]
    started: float
    quick_deaths: int = 0
    restarts: int = 0
    restart_at: float | None = None


def _start(child: Child) -> subprocess.Popen[bytes]:
    return subprocess.Popen(child.argv, env={**os.environ, **child.env})  # noqa: S603 - ours


def run_stack(
    children: list[Child], status_file: Path | None = None, url: str | None = None
) -> int:
    """Run the children until Ctrl-C or SIGTERM. With `url`, say once that it serves (its
    /healthz answers 200): the model and the workers take a few seconds to start."""
    running = [_Running(c, _start(c), time.monotonic()) for c in children]
    waiting_for = url
    stopping = False

    def stop(signum: int, _: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    failed: str | None = None
    try:
        _write_status(status_file, running)
        while not stopping and failed is None:
            time.sleep(POLL_S)
            failed = _supervise(running, status_file)
            if waiting_for is not None and _serves(waiting_for):
                print(f"Confab is ready: {waiting_for}  (Ctrl-C stops everything)", flush=True)
                waiting_for = None
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        code = _stop_all([r.process for r in running])
        if status_file is not None:
            status_file.unlink(missing_ok=True)
    if failed is not None:
        print(f"confab: {failed} cannot run; stopped the others", file=sys.stderr)
        return code or 1
    return 0


def _supervise(running: list[_Running], status_file: Path | None) -> str | None:
    """Restart the children that died; the name of one that keeps dying, if any."""
    now = time.monotonic()
    changed = False
    for entry in running:
        if entry.restart_at is not None:
            if now >= entry.restart_at:
                entry.process, entry.started, entry.restart_at = _start(entry.child), now, None
                entry.restarts += 1
                changed = True
            continue
        code = entry.process.poll()
        if code is None:
            continue
        quick = now - entry.started < QUICK_DEATH_S
        entry.quick_deaths = entry.quick_deaths + 1 if quick else 0
        if entry.quick_deaths >= MAX_QUICK_DEATHS:
            return entry.child.name
        backoff = min(MAX_BACKOFF_S, 0.5 * 2**entry.quick_deaths)
        print(
            f"confab: {entry.child.name} exited with {code}; starting it again in {backoff:.1f} s",
            file=sys.stderr,
        )
        entry.restart_at = now + backoff
    if changed:
        _write_status(status_file, running)
    return None


def _serves(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=1)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):  # refused, timed out, half started: not yet
        return False
    finally:
        connection.close()


def _write_status(status_file: Path | None, running: list[_Running]) -> None:
    if status_file is None:
        return
    status_file.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        {
            "name": r.child.name,
            "pid": r.process.pid,
            "port": r.child.port,
            "restarts": r.restarts,
        }
        for r in running
    ]
    temporary = status_file.with_suffix(".tmp")
    temporary.write_text(json.dumps({"supervisor": os.getpid(), "children": rows}, indent=2))
    temporary.replace(status_file)


def _stop_all(children: list[subprocess.Popen[bytes]]) -> int:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return max((abs(child.returncode or 0) for child in children), default=0)
