"""The engine thread's CPU priority: only the thread that asks, and the threads it starts."""

from __future__ import annotations

import os
import threading

import pytest

from workers.engine.priority import check_priority, lower_this_thread


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
