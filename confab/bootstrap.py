"""The composition root: builds the real dependencies from Settings. Nothing else does."""

from __future__ import annotations

import logging

import nats
import psycopg
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError
from psycopg import sql

from commands.app import ConfabStore
from commands.bots import ensure_builtin_bots
from commands.bus import CommandBus
from commands.outages import Outage, connect_probe
from commands.routing import Embedder
from commands.wire import DRAIN_TIMEOUT_S, Subjects
from confab.settings import Settings
from projections import tables
from projections.search import opensearch, postgres
from projections.search.port import SearchView
from workers.relay import CREATE_POSITION_TABLE

log = logging.getLogger("confab")

SCHEMA_LOCK_KEY = 0x636F6E6662  # serializes DDL: concurrent CREATE TABLEs race and hang
STREAM_MAX_AGE_S = 7 * 24 * 3600  # the log, not the stream, is the durable copy
DUPLICATE_WINDOW_S = 600


def ensure_database(settings: Settings) -> None:
    """Create the database, the event store's tables and our own tables, once."""
    with psycopg.connect(settings.conninfo("postgres"), autocommit=True) as admin:
        admin.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
        try:
            exists = admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (settings.db_name,)
            ).fetchone()
            if not exists:
                log.info("creating database %s", settings.db_name)
                admin.execute(
                    sql.SQL("CREATE DATABASE {}").format(sql.Identifier(settings.db_name))
                )
            store = ConfabStore(env=settings.store_env(create_tables=True))
            ensure_builtin_bots(store, settings.model_name)
            store.close()
            with psycopg.connect(settings.conninfo(), autocommit=True) as conn:
                conn.execute(CREATE_POSITION_TABLE)
                tables.create_tables(conn)
                postgres.create_tables(conn)
                opensearch.create_tables(conn)
        finally:
            admin.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))


BACKGROUND_THREADS = 2  # relay, projector and worker touch the store a little at a time


def build_store(settings: Settings, threads: int = BACKGROUND_THREADS) -> ConfabStore:
    return ConfabStore(env=settings.store_env(threads=threads))


def build_bus(
    settings: Settings, embedder: Embedder | None = None, threads: int = BACKGROUND_THREADS
) -> CommandBus:
    outage = Outage(connect_probe(settings.conninfo()))
    return CommandBus(
        build_store(settings, threads), threads, embedder, outage, settings.max_history_turns
    )


async def connect_nats(settings: Settings, name: str) -> tuple[NATS, JetStreamContext]:
    nc = await nats.connect(
        settings.nats_url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        drain_timeout=DRAIN_TIMEOUT_S,
    )
    js = nc.jetstream()
    await ensure_stream(js, Subjects(settings.bus_prefix))
    return nc, js


async def ensure_stream(js: JetStreamContext, subjects: Subjects) -> None:
    config = StreamConfig(
        name=subjects.stream,
        subjects=[subjects.events_wildcard],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=STREAM_MAX_AGE_S,
        duplicate_window=DUPLICATE_WINDOW_S,
    )
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)


def build_search_view(settings: Settings, size: int = 4, *, writer: bool = False) -> SearchView:
    """The search adapter: OpenSearch when OPENSEARCH_URL is set, else PostgreSQL FTS. The
    projector's (`writer`) commits what the log rebuilds, without waiting for the disk."""
    conninfo = settings.derived_conninfo() if writer else settings.conninfo()
    if settings.opensearch_url:
        return opensearch.OpenSearchSearch(
            settings.opensearch_url, settings.search_alias, conninfo, size
        )
    return postgres.PostgresSearch(conninfo, size)
