"""Stop sequences in streamed text."""

from __future__ import annotations

from workers.stops import StopMatcher


def stream(stops: list[str], pieces: list[str]) -> tuple[str, StopMatcher]:
    matcher = StopMatcher(stops)
    shown = "".join(matcher.feed(p) for p in pieces) + matcher.flush()
    return shown, matcher


def test_text_is_cut_before_a_stop_split_across_pieces() -> None:
    shown, matcher = stream(["END"], ["one two E", "N", "D three"])
    assert shown == "one two "
    assert matcher.stopped and matcher.final_text == "one two "


def test_a_near_miss_is_held_back_then_shown() -> None:
    shown, matcher = stream(["\n\n"], ["a\n", "b"])
    assert shown == "a\nb" and not matcher.stopped


def test_the_earliest_of_several_stops_wins() -> None:
    shown, _ = stream(["world", "lo"], ["hello world"])
    assert shown == "hel"


def test_no_stops_pass_everything_through() -> None:
    shown, matcher = stream([], ["a", "b"])
    assert shown == "ab" and matcher.final_text == "ab"
