"""End checks for every fault test: each asked-for response has exactly one terminal event."""

from __future__ import annotations

import psycopg

TERMINAL = ("ResponseCompleted", "ResponseFailed", "ResponseCancelled")

# Stored state is the JSON transcoding: response_id is {"_type_": "uuid_hex", "_data_": hex}.
_RESPONSES = """
SELECT split_part(topic, '.', 3) AS name,
       convert_from(state, 'UTF8')::jsonb -> 'response_id' ->> '_data_' AS response_id
FROM confab_events
WHERE topic LIKE 'domain.conversation:Conversation.Response%'
"""


def terminal_counts(conninfo: str) -> dict[str, int]:
    """For every ResponseRequested's response id, how many terminal events it has (want 1)."""
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(_RESPONSES).fetchall()
    counts = {rid: 0 for name, rid in rows if name == "ResponseRequested"}
    for name, rid in rows:
        if name in TERMINAL:
            counts[rid] = counts.get(rid, 0) + 1
    return counts


def not_exactly_once(conninfo: str) -> dict[str, int]:
    """The response ids that are unanswered (0) or answered more than once (>1): want {}."""
    return {rid: n for rid, n in terminal_counts(conninfo).items() if n != 1}
