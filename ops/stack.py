"""`confab up`: the relay, the workers and the API as child processes, in the foreground.

Ctrl-C (or SIGTERM) is passed to every child, which drains and exits; a child that has not
exited after a grace period is killed. If any child dies, the others are stopped too.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from types import FrameType

GRACE_S = 15.0


def run_stack(commands: list[list[str]]) -> int:
    children = [subprocess.Popen(cmd) for cmd in commands]  # noqa: S603 - our own entry point
    stopping = False

    def stop(signum: int, _: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.2)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        code = _stop_all(children)
    if not stopping:
        print("confab: a process exited; stopped the others", file=sys.stderr)
        return code or 1
    return 0


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
