"""The one place that reads the environment. Everything else is given a Settings."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import msgspec
from psycopg.conninfo import make_conninfo


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    data_dir: Path = Path("data")
    db_host: str = "127.0.0.1"
    db_port: int = 5432
    db_user: str = "postgres"
    db_password: str = ""
    db_name: str = "confab"
    nats_url: str = "nats://127.0.0.1:4222"
    # Prefix of every subject, stream and durable consumer name, so that tests and several
    # installations can share one NATS server without seeing each other.
    bus_prefix: str = "confab"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # Where a relay, projector or worker serves /healthz, /readyz and /metrics (0: nowhere);
    # `confab up` numbers its children's ports from here, or from 9100 when this is 0
    health_port: int = 0
    model_dir: Path | None = None
    model_name: str = "SmolLM2-135M-Instruct"
    max_history_turns: int = 20
    max_new_tokens: int = 1024  # a cap on every response, whatever a bot or client asks
    store_threads: int = 8  # the API's; the relay, projector and worker need 2
    ack_wait_s: float = 30.0
    max_deliver: int = 5
    # Requests one worker answers at once; above 1 only pays with a batching engine.
    worker_concurrency: int = 8  # sequences one worker's engine decodes together
    max_upload_bytes: int = 20 * 2**20  # one attached file
    max_attachments: int = 10  # files on one message
    attachment_context_tokens: int = 1500  # of attached text a prompt takes, all files together
    generate_titles: bool = True  # the model names a new chat after its first reply
    # auto (GPU: bf16; CPU: bf16 with int8 weights for narrow steps), float32, bfloat16, int8
    engine_dtype: str = "auto"
    drain_grace_s: float = 20.0
    # The engine thread's CPU priority (workers/engine/priority.py): auto (idle on the CPU,
    # normal on a GPU), idle, normal or a nice value 1-19. The rest of the worker, and every
    # other process, takes a shared CPU from an idle engine at once (bench/overhead).
    engine_priority: str = "auto"
    # A request with no outcome this long after it was asked for is published again.
    sweep_after_s: float = 120.0
    sweep_every_s: float = 10.0
    max_redrives: int = 3
    log_level: str = "INFO"
    log_format: str = "text"  # or "json": one object a line, with the turn's request id
    # The search view: PostgreSQL full-text search unless an OpenSearch URL is given.
    opensearch_url: str = ""
    # Promotion gate of `confab train`: held-out loss must fall by this fraction, and the sanity
    # set's loss may rise by at most this fraction.
    promote_min_gain: float = 0.01
    sanity_tolerance: float = 0.02

    @property
    def model_path(self) -> Path:
        return self.model_dir or self.data_dir / "models" / "smollm2-135m-instruct"

    @property
    def webui_dir(self) -> Path:
        return Path(__file__).resolve().parent.parent / "webui" / "dist"

    def store_env(self, *, create_tables: bool = False, threads: int = 2) -> dict[str, str]:
        """The eventsourcing library's own settings (it is configured by environment).

        One pooled connection per store thread and no overflow: a process never holds more
        connections than threads that can use them (PostgreSQL allows 100 by default).
        """
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.db_name,
            "POSTGRES_HOST": self.db_host,
            "POSTGRES_PORT": str(self.db_port),
            "POSTGRES_USER": self.db_user,
            "POSTGRES_PASSWORD": self.db_password,
            "POSTGRES_POOL_SIZE": str(threads),
            "POSTGRES_MAX_OVERFLOW": "0",
            # A pooled connection is checked before use: after PostgreSQL restarts, the first
            # request gets a fresh connection instead of an error from a dead one.
            "POSTGRES_PRE_PING": "yes",
            # How long a statement waits for a connection (the library's default is 30 s). The
            # event store tries a statement 10 times, so the first call to find PostgreSQL down
            # fails after ~20 s; the bus's breaker (commands.outages) fails the rest at once.
            "POSTGRES_CONNECT_TIMEOUT": "2",
            "CREATE_TABLE": "yes" if create_tables else "no",
            # An append is one call of a function that locks, notifies and inserts
            # (commands/event_recorder.py): one round trip instead of two.
            "POSTGRES_ENABLE_DB_FUNCTIONS": "yes",
            "APPLICATION_RECORDER_TOPIC": "commands.event_recorder:OneTripRecorder",
        }

    @property
    def search_alias(self) -> str:
        """The OpenSearch alias of the live message index (one per bus prefix)."""
        return f"{self.bus_prefix}-messages"

    def conninfo(self, db_name: str | None = None) -> str:
        parts: dict[str, str | int] = {
            "host": self.db_host,
            "port": self.db_port,
            "user": self.db_user,
            "dbname": db_name or self.db_name,
        }
        if self.db_password:
            parts["password"] = self.db_password
        return make_conninfo("", **parts)

    def derived_conninfo(self) -> str:
        """For connections that write only what the log rebuilds (read models, the search
        index, followers' positions): their commits do not wait for the disk. A crash loses at
        most the last moments of them, whole transactions with their positions, and the
        followers redo those from the log. The event store's own commits always wait."""
        return make_conninfo(self.conninfo(), options="-c synchronous_commit=off")


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


_ENV: dict[str, tuple[str, Callable[[str], object]]] = {
    "data_dir": ("CONFAB_DATA_DIR", Path),
    "db_host": ("CONFAB_DB_HOST", str),
    "db_port": ("CONFAB_DB_PORT", int),
    "db_user": ("CONFAB_DB_USER", str),
    "db_password": ("CONFAB_DB_PASSWORD", str),
    "db_name": ("CONFAB_DB_NAME", str),
    "nats_url": ("CONFAB_NATS_URL", str),
    "bus_prefix": ("CONFAB_BUS_PREFIX", str),
    "api_host": ("CONFAB_HOST", str),
    "api_port": ("CONFAB_PORT", int),
    "health_port": ("CONFAB_HEALTH_PORT", int),
    "model_dir": ("CONFAB_MODEL_DIR", Path),
    "model_name": ("CONFAB_MODEL_NAME", str),
    "max_history_turns": ("CONFAB_MAX_HISTORY_TURNS", int),
    "max_new_tokens": ("CONFAB_MAX_NEW_TOKENS", int),
    "store_threads": ("CONFAB_STORE_THREADS", int),
    "worker_concurrency": ("CONFAB_WORKER_CONCURRENCY", int),
    "engine_dtype": ("CONFAB_ENGINE_DTYPE", str),
    "log_format": ("CONFAB_LOG_FORMAT", str),
    "engine_priority": ("CONFAB_ENGINE_PRIORITY", str),
    "generate_titles": ("CONFAB_GENERATE_TITLES", _flag),
    "max_upload_bytes": ("CONFAB_MAX_UPLOAD_BYTES", int),
    "max_attachments": ("CONFAB_MAX_ATTACHMENTS", int),
    "attachment_context_tokens": ("CONFAB_ATTACHMENT_CONTEXT_TOKENS", int),
    "drain_grace_s": ("CONFAB_DRAIN_GRACE_S", float),
    "sweep_after_s": ("CONFAB_SWEEP_AFTER_S", float),
    "sweep_every_s": ("CONFAB_SWEEP_EVERY_S", float),
    "ack_wait_s": ("CONFAB_ACK_WAIT_S", float),
    "max_redrives": ("CONFAB_MAX_REDRIVES", int),
    "log_level": ("CONFAB_LOG_LEVEL", str),
    "opensearch_url": ("OPENSEARCH_URL", str),
    "promote_min_gain": ("CONFAB_PROMOTE_MIN_GAIN", float),
    "sanity_tolerance": ("CONFAB_SANITY_TOLERANCE", float),
}


def load_settings(environ: dict[str, str] | None = None, **overrides: object) -> Settings:
    """Settings from CONFAB_* environment variables, with local defaults."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {
        field: convert(env[name]) for field, (name, convert) in _ENV.items() if name in env
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
