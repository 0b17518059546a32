"""The API's own Prometheus metrics (HTTP requests are counted by Litestar's middleware)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ACCEPTED = Counter("confab_ws_messages_accepted", "Chat messages accepted over the websocket.")
ACCEPT_SECONDS = Histogram(
    "confab_ws_accept_seconds",
    "From a websocket send frame to its accepted frame (the append to the log included).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
ERRORS = Counter("confab_ws_errors", "Error frames sent to websocket clients, by code.", ["code"])
