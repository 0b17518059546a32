"""The async main of each process: build its parts, run until SIGTERM/SIGINT, drain, exit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Iterator

import uvicorn
from nats.aio.client import Client as NATS

from api.app import ApiParts, create_app
from commands import models
from commands.blobs import FileBlobStore
from commands.embeddings import MiniLMEmbedder
from commands.wire import Subjects, close_nats
from confab import bootstrap, health
from confab.settings import Settings
from domain.model_version import BASE_VERSION
from projections.queries import ReadModels
from workers.engine import model_files
from workers.engine.generator import Generator, engine_dtype
from workers.engine.priority import check_priority
from workers.follower import LogFollower
from workers.inference import InferenceWorker
from workers.projector import Projector
from workers.relay import Relay
from workers.search_projector import SearchProjector
from workers.sweeper import Sweeper

log = logging.getLogger("confab")


def stop_event(given: asyncio.Event | None) -> asyncio.Event:
    """The event that stops a process: the caller's, or one set by SIGINT/SIGTERM."""
    if given is not None:
        return given
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def run_relay(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """The relay, and beside it the sweeper: both act only while this relay is the active one."""
    bus = bootstrap.build_bus(settings)
    nc, js = await bootstrap.connect_nats(settings, "confab-relay")
    subjects = Subjects(settings.bus_prefix)
    relay = Relay(bus, js, subjects, settings.derived_conninfo(), bootstrap.ensure_stream)
    relay.stopping = stop_event(stop)
    sweeper = Sweeper(
        bus,
        js,
        subjects,
        settings.conninfo(),
        after_s=settings.sweep_after_s,
        max_redrives=settings.max_redrives,
        every_s=settings.sweep_every_s,
        ensure_stream=bootstrap.ensure_stream,
    )
    checks = {
        "database": health.database_check(settings),
        "nats": health.nats_check(nc),
        "relay": health.follower_check(relay),
    }
    try:
        async with (
            health.health_server(settings, checks),
            health.running(health.sample_lag(bus, {"relay": relay}, health.relay_lag)),
        ):
            await asyncio.gather(
                relay.run(), sweeper.run(relay.stopping, lambda: relay.state == "active")
            )
    finally:
        await close_nats(nc)
        bus.close()
        log.info(
            "relay stopped after publishing %d events (%d re-driven, %d given up)",
            relay.published,
            sweeper.redriven,
            sweeper.failed,
        )


async def run_projector(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """The read-model projector and, beside it, the search projector (each its own position)."""
    bus = bootstrap.build_bus(settings)
    projector = Projector(bus, settings.derived_conninfo())
    projector.stopping = stop_event(stop)
    view = bootstrap.build_search_view(settings, size=2, writer=True)
    await view.open()
    search = SearchProjector(bus, settings.derived_conninfo(), view)
    search.stopping = projector.stopping
    checks = {
        "database": health.database_check(settings),
        "projector": health.follower_check(projector),
        "search": health.follower_check(search),
    }
    followers: dict[str, LogFollower] = {"projector": projector, search.name: search}
    try:
        async with (
            health.health_server(settings, checks),
            health.running(health.sample_lag(bus, followers, health.projector_lag)),
        ):
            await asyncio.gather(projector.run(), search.run())
    finally:
        await view.close()
        projector.close()
        bus.close()
        log.info(
            "projector stopped after %d events (search: %d)", projector.handled, search.handled
        )


def generator_loader(settings: Settings) -> Callable[[str], Generator]:
    """Loads a model version's weights: a path under the data directory, or "" for the base."""

    def load(relative: str) -> Generator:
        path = settings.data_dir / relative if relative else settings.model_path
        return Generator(
            path,
            settings.model_name,
            max_batch=settings.worker_concurrency,
            dtype=engine_dtype(settings.engine_dtype),
            priority=settings.engine_priority,
        )

    return load


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    check_priority(settings.engine_priority)  # a wrong setting fails before the model loads
    model_files.prepare(settings.model_path)
    bus = bootstrap.build_bus(settings)
    load = generator_loader(settings)
    version, relative = await bus.query(models.serving_model)
    try:
        generator = await asyncio.to_thread(load, relative)
    except OSError:
        log.exception("model %s cannot be loaded; serving the base model", version)
        version, generator = BASE_VERSION, await asyncio.to_thread(load, "")
    nc, js = await bootstrap.connect_nats(settings, "confab-worker")
    worker = InferenceWorker(
        bus,
        nc,
        js,
        Subjects(settings.bus_prefix),
        generator,
        max_history_turns=settings.max_history_turns,
        max_new_tokens=settings.max_new_tokens,
        ack_wait_s=settings.ack_wait_s,
        max_deliver=settings.max_deliver,
        concurrency=settings.worker_concurrency,
        drain_grace_s=settings.drain_grace_s,
        titles=settings.generate_titles,
        blobs=FileBlobStore(settings.data_dir / "blobs"),
        attachment_context_tokens=settings.attachment_context_tokens,
        model_version=version,
        load_generator=load,
        ensure_stream=bootstrap.ensure_stream,
    )
    worker.stopping = stop_event(stop)
    subjects = Subjects(settings.bus_prefix)
    checks = {"database": health.database_check(settings), "nats": health.nats_check(nc)}
    try:
        async with (
            health.health_server(settings, checks),
            health.running(health.sample_queue(js, subjects)),
        ):
            await worker.run()
    finally:
        await close_nats(nc)
        worker.generator.close()
        bus.close()
        log.info("worker stopped after %d responses", worker.completed)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: on SIGTERM it would exit by the signal (code
    -15) after shutting down; the process's stop event makes it exit 0 like the others."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run_api(settings: Settings, stop: asyncio.Event | None = None) -> None:
    async def connect() -> NATS:
        nc, _ = await bootstrap.connect_nats(settings, "confab-api")
        return nc

    webui = settings.webui_dir if (settings.webui_dir / "index.html").exists() else None
    if webui is None:
        log.warning("webui/dist is not built; serving the API only (run: make webui)")
    app = create_app(
        ApiParts(
            bus=bootstrap.build_bus(settings, MiniLMEmbedder(), threads=settings.store_threads),
            read=ReadModels(settings.conninfo()),
            blobs=FileBlobStore(settings.data_dir / "blobs"),
            connect_nats=connect,
            subjects=Subjects(settings.bus_prefix),
            model_name=settings.model_name,
            webui_dir=webui,
            search=bootstrap.build_search_view(settings),
            max_upload_bytes=settings.max_upload_bytes,
            max_attachments=settings.max_attachments,
        )
    )
    config = uvicorn.Config(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_level=settings.log_level.lower(),
        log_config=None,  # uvicorn's loggers go through the process's own (text or JSON)
        ws_max_size=1 << 20,
        lifespan="on",
    )
    server = _Server(config)
    stopping = stop_event(stop)

    async def exit_on_stop() -> None:
        await stopping.wait()
        server.should_exit = True  # uvicorn finishes open requests, then the lifespan ends

    watcher = asyncio.create_task(exit_on_stop())
    try:
        await server.serve()
    finally:
        watcher.cancel()
