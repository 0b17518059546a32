"""The words a message is counted under for "top terms", the same for every adapter.

Each adapter's own analyzer stems differently (Snowball in PostgreSQL, Porter in OpenSearch),
so the terms are cut here once and stored on the document: both views then count the same.
"""

from __future__ import annotations

import re

MAX_TERMS = 64  # per message: a pasted log should not dominate the statistics
MIN_LENGTH = 3
_WORD = re.compile(r"[^\W\d_](?:[\w']*[^\W_])?")  # starts with a letter, ends with no '_

_STOP_TEXT = """
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers herself him himself his how i if in into is it
its itself just let like me more most my myself no nor not now of off on once only or other
our ours ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves
i'm it's don't can't you're that's there's what's let's i've i'll i'd we're they're isn't
aren't wasn't didn't doesn't won't one two get got make use using used want need know think
see say said sure yes okay ok here's
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())


def terms_of(text: str) -> list[str]:
    """Distinct lower-case words of a text, without stop words, in order of first use."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if len(word) >= MIN_LENGTH and word not in STOP_WORDS and word not in seen:
            seen[word] = None
            if len(seen) == MAX_TERMS:
                break
    return list(seen)
