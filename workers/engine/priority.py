"""The engine thread's CPU priority: on a shared CPU the event path goes first.

A CPU engine keeps every core busy, and everything a person waits for before the engine's
first token (the API's append, the relay, PostgreSQL, the worker's own event loop) needs a core
for a millisecond at a time. At "idle" (Linux SCHED_IDLE) the engine thread, and the OpenMP
threads it starts (they inherit it), run only on time nobody else wants: any other thread
takes a core from them at once. The rest of the worker process, its event loop included,
keeps the normal priority; a whole-process nice 10 left the loop competing with the engine.

SCHED_IDLE only ranks threads within one CPU group, though. With autogroups (one group per
session) or a service manager's cgroups, PostgreSQL and NATS sit in groups of their own, and a
thread of theirs that wakes (a commit's fdatasync returning) waited for the engine's time slice
to end: 3-4 ms per commit on a 2-core machine instead of 0.3. So "idle" also moves the engine
thread into a CPU cgroup marked idle (`cpu.idle`, Linux 5.15+), where the cgroup v1 CPU
controller lets a single thread be moved and a process may make one (root, usually). Under
cgroup v2 that is the service manager's job: systemd's `CPUWeight=idle` on the worker's unit.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

log = logging.getLogger("confab.engine")

CHOICES = "auto, idle, normal or a nice value 1-19"
IDLE_GROUP = "confab-engine"


def check_priority(priority: str) -> str:
    """The setting as given, if it names a priority; else a ValueError that says what does."""
    if priority in ("auto", "idle", "normal"):
        return priority
    if priority.isdigit() and 1 <= int(priority) <= 19:
        return priority
    raise ValueError(f"engine priority must be {CHOICES}, not {priority!r}")


def lower_this_thread(priority: str, device: str) -> None:
    """Applies `priority` to the calling thread (Linux: priority is per thread, inherited by
    threads it starts). "auto" is "idle" on the CPU; a GPU engine's thread mostly waits on the
    device and keeps the normal priority, so that kernel launches are never kept waiting."""
    priority = check_priority(priority)
    if priority == "auto":
        priority = "idle" if device == "cpu" else "normal"
    if priority == "normal":
        return
    thread = threading.get_native_id()
    try:
        if priority == "idle":
            os.sched_setscheduler(thread, os.SCHED_IDLE, os.sched_param(0))
            join_idle_cgroup(thread)
        else:
            os.setpriority(os.PRIO_PROCESS, thread, int(priority))
    except (AttributeError, OSError) as exc:  # not Linux, or not allowed: run as we are
        log.warning("the engine keeps the normal CPU priority (%s)", exc)


def cpu_cgroup_v1() -> Path | None:
    """This process's group in the cgroup v1 CPU hierarchy, or None where there is none."""
    mount = None
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        mine, _, theirs = line.partition(" - ")
        fields, (fstype, _source, options) = mine.split(), theirs.split()[:3]
        if fstype == "cgroup" and "cpu" in options.split(","):
            mount = Path(fields[4])
    if mount is None:
        return None
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "cpu" in controllers.split(","):
            return mount / path.lstrip("/")
    return None


def join_idle_cgroup(thread: int) -> Path | None:
    """Moves `thread` (and the threads it starts later) into an idle CPU cgroup made beside
    this process's own; returns that group, or None (with a log line) where it cannot."""
    try:
        parent = cpu_cgroup_v1()
        if parent is None:
            log.info("no cgroup v1 CPU controller: the engine is idle within its own group only")
            return None
        group = parent if parent.name == IDLE_GROUP else parent / IDLE_GROUP
        group.mkdir(exist_ok=True)
        (group / "cpu.idle").write_text("1")
        (group / "tasks").write_text(str(thread))
    except OSError as exc:
        log.info("the engine is idle within its own CPU group only (%s)", exc)
        return None
    return group
