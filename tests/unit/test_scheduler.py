"""The engine's scheduler on its own: no model, no torch."""

from __future__ import annotations

import pytest

from workers.engine.scheduler import Scheduler, Sequence, Step

EOS = 2


def seq(seq_id: int, prompt_len: int = 4, max_new: int = 8, cancelled: bool = False) -> Sequence:
    return Sequence(
        seq_id=seq_id,
        prompt=list(range(10, 10 + prompt_len)),
        max_new_tokens=max_new,
        stop_ids=frozenset({EOS}),
        is_cancelled=lambda: cancelled,
    )


def run_step(scheduler: Scheduler, token: int = 7) -> tuple[Step, list[Sequence]]:
    step, _ = scheduler.schedule()
    rows = len(step.decodes) + len(step.chunks)
    return step, scheduler.update(step, [token] * rows)


def test_a_new_sequence_is_prefilled_then_decoded_one_token_a_step() -> None:
    scheduler = Scheduler(max_batch=2, max_len=64)
    s = seq(1, prompt_len=4)
    scheduler.add(s)
    step, _ = run_step(scheduler)
    assert [(c.start, c.end) for c in step.chunks] == [(0, 4)] and not step.decodes
    assert s.output == [7] and s.next_position == 4
    step, _ = run_step(scheduler)
    assert step.decodes == [s] and not step.chunks
    assert s.output == [7, 7] and s.next_position == 5


def test_a_long_prompt_is_prefilled_in_chunks_while_others_keep_decoding() -> None:
    scheduler = Scheduler(max_batch=2, max_len=256, prefill_tokens=16)
    short, long = seq(1, prompt_len=4), seq(2, prompt_len=40)
    scheduler.add(short)
    run_step(scheduler)
    scheduler.add(long)
    spans = []
    for _ in range(3):
        step, _ = run_step(scheduler)
        assert step.decodes == [short]  # the running stream never waits for the whole prompt
        spans += [(c.start, c.end) for c in step.chunks]
    assert spans == [(0, 16), (16, 32), (32, 40)]
    assert long.output == [7] and long.prefilled


def test_a_partial_chunk_produces_no_token() -> None:
    scheduler = Scheduler(max_batch=1, max_len=256, prefill_tokens=8)
    s = seq(1, prompt_len=20)
    scheduler.add(s)
    run_step(scheduler)
    assert s.output == [] and s.computed == 8


def test_the_prefill_budget_is_shared_by_several_newcomers_in_arrival_order() -> None:
    scheduler = Scheduler(max_batch=4, max_len=256, prefill_tokens=10)
    a, b, c = seq(1, prompt_len=6), seq(2, prompt_len=6), seq(3, prompt_len=6)
    for s in (a, b, c):
        scheduler.add(s)
    step, _ = scheduler.schedule()
    assert [(ch.seq, ch.start, ch.end) for ch in step.chunks] == [(a, 0, 6), (b, 0, 4)]


def test_no_more_sequences_run_than_there_are_slots() -> None:
    scheduler = Scheduler(max_batch=2, max_len=64)
    for i in range(5):
        scheduler.add(seq(i))
    run_step(scheduler)
    assert len(scheduler.running) == 2 and len(scheduler.waiting) == 3


def test_a_sequence_ends_at_max_new_tokens_and_frees_its_slot_for_a_waiting_one() -> None:
    scheduler = Scheduler(max_batch=1, max_len=64)
    first, second = seq(1, max_new=2), seq(2)
    scheduler.add(first)
    scheduler.add(second)
    run_step(scheduler)
    _, finished = run_step(scheduler)
    assert finished == [first] and first.finish_reason == "length" and first.output == [7, 7]
    step, _ = scheduler.schedule()
    assert second.slot == 0 and step.chunks[0].seq is second


def test_a_stop_token_ends_the_sequence() -> None:
    scheduler = Scheduler(max_batch=1, max_len=64)
    s = seq(1)
    scheduler.add(s)
    _, finished = run_step(scheduler, token=EOS)
    assert finished == [s] and s.finish_reason == "stop" and s.output == [EOS]


def test_a_cancelled_sequence_leaves_the_batch_and_frees_its_slot() -> None:
    scheduler = Scheduler(max_batch=1, max_len=64)
    cancel = False
    s = Sequence(1, [10, 11], 8, frozenset({EOS}), is_cancelled=lambda: cancel)
    scheduler.add(s)
    run_step(scheduler)
    cancel = True
    step, cancelled = scheduler.schedule()
    assert cancelled == [s] and s.finish_reason == "cancelled" and step.empty
    assert not scheduler.has_work and scheduler._free == [0]


def test_a_cancelled_waiting_sequence_never_runs() -> None:
    scheduler = Scheduler(max_batch=1, max_len=64)
    scheduler.add(seq(1))
    gone = seq(2, cancelled=True)
    scheduler.add(gone)
    _, cancelled = scheduler.schedule()
    assert cancelled == [gone] and list(scheduler.waiting) == []


def test_freed_slots_are_reused_lowest_first_so_decode_reads_stay_contiguous() -> None:
    scheduler = Scheduler(max_batch=3, max_len=64)
    a, b, c = seq(1, max_new=1), seq(2, max_new=5), seq(3, max_new=1)
    for s in (a, b, c):
        scheduler.add(s)
    run_step(scheduler)  # a and c finish on their first token
    d = seq(4)
    scheduler.add(d)
    scheduler.schedule()
    assert (b.slot, d.slot) == (1, 0)


def test_decodes_are_ordered_by_slot() -> None:
    scheduler = Scheduler(max_batch=3, max_len=64)
    first, second = seq(1, max_new=1), seq(2)
    scheduler.add(first)
    scheduler.add(second)
    run_step(scheduler)
    third = seq(3)
    scheduler.add(third)
    run_step(scheduler)
    step, _ = scheduler.schedule()
    assert [s.slot for s in step.decodes] == [0, 1]


def test_a_request_that_cannot_fit_the_cache_is_refused() -> None:
    scheduler = Scheduler(max_batch=1, max_len=16)
    with pytest.raises(ValueError, match="> 16"):
        scheduler.add(seq(1, prompt_len=10, max_new=8))


def test_abort_all_ends_waiting_and_running_sequences() -> None:
    scheduler = Scheduler(max_batch=1, max_len=64)
    a, b = seq(1), seq(2)
    scheduler.add(a)
    scheduler.add(b)
    run_step(scheduler)
    assert scheduler.abort_all("error") == [a, b]
    assert not scheduler.has_work and scheduler._free == [0]
