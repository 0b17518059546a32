"""Stop sequences: cut the streamed text before the first stop string, never showing part of it.

Text that could be the start of a stop string is held back until the next piece decides.
"""

from __future__ import annotations

from collections.abc import Sequence


class StopMatcher:
    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = [s for s in stops if s]
        self.text = ""
        self.sent = 0
        self.stopped = False

    def feed(self, piece: str) -> str:
        """The part of the text that is now safe to show."""
        if self.stopped:
            return ""
        self.text += piece
        cut = min((i for i in (self.text.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            return self._advance(cut)
        return self._advance(len(self.text) - self._held_back())

    def flush(self) -> str:
        """At the end of generation: whatever was held back is shown."""
        return "" if self.stopped else self._advance(len(self.text))

    @property
    def final_text(self) -> str:
        return self.text[: self.sent] if self.stopped else self.text

    def _held_back(self) -> int:
        longest = 0
        for stop in self.stops:
            for size in range(min(len(stop) - 1, len(self.text)), 0, -1):
                if self.text.endswith(stop[:size]):
                    longest = max(longest, size)
                    break
        return longest

    def _advance(self, upto: int) -> str:
        piece = self.text[self.sent : upto] if upto > self.sent else ""
        self.sent = max(self.sent, upto)
        return piece
