"""Prometheus metrics of the relay, projector and inference worker (each process its own).

Names start with `confab_`; ops/grafana/confab.json charts them, and a test checks that every
metric the dashboard asks for is exposed by some process.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
TOKEN_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0)

# The inference worker
TTFT = Histogram(
    "confab_worker_ttft_seconds",
    "From a request reaching the engine to its first token.",
    buckets=LATENCY_BUCKETS,
)
TOKEN_LATENCY = Histogram(
    "confab_worker_token_seconds",
    "Mean time between a response's tokens after the first.",
    buckets=TOKEN_BUCKETS,
)
TOKENS = Counter("confab_worker_tokens", "Tokens generated (rate() gives tokens/s).")
RESPONSES = Counter("confab_worker_responses", "Requests answered, by outcome.", ["outcome"])
ACTIVE = Gauge("confab_worker_active_requests", "Requests this worker is answering now.")
QUEUE_PENDING = Gauge(
    "confab_worker_queue_pending",
    "Requests in JetStream that no worker has taken yet (the shared consumer's lag).",
)
ERRORS = Counter("confab_worker_errors", "Failures while answering a request.")

# The relay
PUBLISHED = Counter("confab_relay_published_events", "Events published to JetStream.")
RELAY_LAG = Gauge("confab_relay_lag_events", "Stored events the relay has not published yet.")

# The projector
APPLIED = Counter(
    "confab_projector_applied_events", "Events applied, by projection.", ["projection"]
)
PROJECTOR_LAG = Gauge(
    "confab_projector_lag_events", "Stored events a projection has not applied yet.", ["projection"]
)
