"""End checks for every fault test: each asked-for response has exactly one terminal event."""

from __future__ import annotations

import subprocess
import sys
import time

import psycopg

from projections import tables

PROJECTED_TIMEOUT_S = 60.0
REPLAY_TIMEOUT_S = 120.0
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


def wait_projected(conninfo: str, timeout_s: float = PROJECTED_TIMEOUT_S) -> None:
    """Until the read models have applied every event in the log."""
    deadline = time.monotonic() + timeout_s
    while True:
        with psycopg.connect(conninfo) as conn:
            head = conn.execute("SELECT coalesce(max(notification_id), 0) FROM confab_events")
            at = conn.execute(
                "SELECT coalesce(max(position), 0) FROM projection_position WHERE name = %s",
                (tables.NAME,),
            )
            (head_id,), (position,) = head.fetchone() or (0,), at.fetchone() or (0,)
        if position >= head_id:
            return
        if time.monotonic() > deadline:
            with psycopg.connect(conninfo) as conn:
                behind = conn.execute(
                    "SELECT notification_id, topic FROM confab_events"
                    " WHERE notification_id > %s ORDER BY notification_id",
                    (position,),
                ).fetchall()
            raise AssertionError(f"read models at {position}, the log at {head_id}: {behind}")
        time.sleep(0.3)


def assert_sound(conninfo: str, env: dict[str, str]) -> None:
    """The end of every fault test: each asked-for response has exactly one terminal event,
    the read models agree, and every view equals a rebuild from the log (`confab replay
    --check`)."""
    assert not_exactly_once(conninfo) == {}
    wait_projected(conninfo)
    with psycopg.connect(conninfo) as conn:
        open_responses = conn.execute(
            "SELECT count(*) FROM rm_responses WHERE outcome IS NULL"
        ).fetchone()
    assert open_responses == (0,)
    check = subprocess.run(
        [sys.executable, "-m", "confab", "replay", "--check", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=REPLAY_TIMEOUT_S,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def outcomes_of(conninfo: str, response_ids: list[str]) -> dict[str, str | None]:
    """The read models' outcome of each response (call after `wait_projected`)."""
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT response_id::text, outcome FROM rm_responses WHERE response_id::text = ANY(%s)",
            (response_ids,),
        ).fetchall()
    return {str(rid): outcome for rid, outcome in rows}
