"""The engine thread's CPU priority: on a shared CPU the event path goes first.

A CPU engine keeps every core busy, and everything a person waits for before the engine's
first token (the API's append, the relay, PostgreSQL, the worker's own event loop) needs a core
for a millisecond at a time. At "idle" (Linux SCHED_IDLE) the engine thread, and the OpenMP
threads it starts (they inherit it), run only on time nobody else wants: any other thread
takes a core from them at once. The rest of the worker process, its event loop included,
keeps the normal priority; a whole-process nice 10 left the loop competing with the engine.
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger("confab.engine")

CHOICES = "auto, idle, normal or a nice value 1-19"


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
        else:
            os.setpriority(os.PRIO_PROCESS, thread, int(priority))
    except (AttributeError, OSError) as exc:  # not Linux, or not allowed: run as we are
        log.warning("the engine keeps the normal CPU priority (%s)", exc)
