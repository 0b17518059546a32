"""The engine thread's CPU priority: only the thread that asks, and the threads it starts."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from workers.engine.priority import IDLE_GROUP, check_priority, cpu_cgroup_v1, lower_this_thread


@pytest.mark.parametrize("good", ["auto", "idle", "normal", "1", "19"])
def test_known_priorities_are_accepted(good: str) -> None:
    assert check_priority(good) == good


@pytest.mark.parametrize("bad", ["", "0", "20", "-5", "low", "10.5"])
def test_anything_else_is_refused_with_the_choices(bad: str) -> None:
    with pytest.raises(ValueError, match="auto, idle, normal or a nice value 1-19"):
        check_priority(bad)


def policies_after(priority: str, device: str) -> tuple[int, int, int]:
    """The scheduling policy and nice value of a thread that lowered itself, of a thread it
    started afterwards, and of the thread that started it."""
    seen: list[tuple[int, int]] = []

    def lowered() -> None:
        lower_this_thread(priority, device)
        seen.append(policy_and_nice())
        child = threading.Thread(target=lambda: seen.append(policy_and_nice()))
        child.start()
        child.join()

    thread = threading.Thread(target=lowered)
    thread.start()
    thread.join()
    (policy, nice), (child_policy, child_nice) = seen
    assert (policy, nice) == (child_policy, child_nice)  # inherited
    return policy, nice, policy_and_nice()[0]


def policy_and_nice() -> tuple[int, int]:
    me = threading.get_native_id()
    return os.sched_getscheduler(me), os.getpriority(os.PRIO_PROCESS, me)


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="Linux scheduling policies")
def test_auto_is_idle_on_the_cpu_and_leaves_the_rest_of_the_process_alone() -> None:
    policy, _, caller = policies_after("auto", "cpu")
    assert policy == os.SCHED_IDLE
    assert caller == os.SCHED_OTHER


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="Linux scheduling policies")
def test_auto_keeps_a_gpu_engine_normal_and_a_number_is_a_nice_value() -> None:
    assert policies_after("auto", "cuda")[:2] == (os.SCHED_OTHER, os.nice(0))
    policy, nice, _ = policies_after("7", "cpu")
    assert (policy, nice) == (os.SCHED_OTHER, max(7, os.nice(0)))


def cpu_group_of(thread: int) -> str:
    for line in Path(f"/proc/self/task/{thread}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "cpu" in controllers.split(","):
            return path
    raise AssertionError("no cpu controller line")


def writable_cpu_cgroup() -> bool:
    group = cpu_cgroup_v1()
    return group is not None and os.access(group, os.W_OK)


@pytest.mark.skipif(not writable_cpu_cgroup(), reason="needs a writable cgroup v1 CPU controller")
def test_an_idle_engine_thread_and_its_threads_share_an_idle_cpu_group_the_caller_is_not_in() -> (
    None
):
    """SCHED_IDLE ranks threads within their group only; the group itself is marked idle so
    that PostgreSQL's and NATS's threads, in groups of their own, preempt the engine too."""
    seen: dict[str, str] = {}

    def lowered() -> None:
        lower_this_thread("idle", "cpu")
        seen["engine"] = cpu_group_of(threading.get_native_id())
        child = threading.Thread(
            target=lambda: seen.update(child=cpu_group_of(threading.get_native_id()))
        )
        child.start()
        child.join()

    thread = threading.Thread(target=lowered)
    thread.start()
    thread.join()
    assert seen["engine"].endswith("/" + IDLE_GROUP)
    assert seen["child"] == seen["engine"]
    assert cpu_group_of(threading.get_native_id()) != seen["engine"]
    group = cpu_cgroup_v1()
    assert group is not None
    assert (group / IDLE_GROUP / "cpu.idle").read_text().strip() == "1"
