"""Every process is probed, measured and stopped the same way, as separate processes.

`confab relay`, `projector`, `worker` and `api` run as children with CONFAB_HEALTH_PORT (the
API on its own port) and JSON logs. Each answers /healthz, /readyz and /metrics; one chat turn
moves every process's counters and leaves one request id in the API's and the worker's logs;
the Grafana dashboard asks only for metrics some process exposes; SIGTERM stops each cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import msgspec
import pytest

from confab.settings import Settings
from tests.integration.conftest import free_port, reset_database, reset_stream
from tests.integration.wsclient import ChatClient

START_TIMEOUT_S = 120.0
DASHBOARD = Path(__file__).parents[2] / "ops" / "grafana" / "confab.json"
KINDS = ("relay", "projector", "worker", "api")


@dataclass
class Child:
    kind: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def records(self) -> list[dict[str, object]]:
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                found.append(json.loads(line))
        return found


@pytest.fixture(scope="module")
def processes(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Child]]:
    own = msgspec.structs.replace(
        settings, db_name=f"{settings.db_name}_health", bus_prefix=f"{settings.bus_prefix}health"
    )
    reset_database(own)
    asyncio.run(reset_stream(own))
    folder = tmp_path_factory.mktemp("health")
    env = {
        **os.environ,
        "CONFAB_DB_NAME": own.db_name,
        "CONFAB_BUS_PREFIX": own.bus_prefix,
        "CONFAB_DATA_DIR": str(folder),
        "CONFAB_MODEL_DIR": str(own.model_path),
        "CONFAB_MAX_NEW_TOKENS": "8",
        "CONFAB_GENERATE_TITLES": "0",
        "CONFAB_STORE_THREADS": "2",
        "CONFAB_ENGINE_PRIORITY": "normal",
        "CONFAB_LOG_FORMAT": "json",
        "CONFAB_LOG_LEVEL": "INFO",
    }
    children: dict[str, Child] = {}
    try:
        for kind in KINDS:  # the relay first: it makes the stream the worker reads
            port = free_port()
            setting = "CONFAB_PORT" if kind == "api" else "CONFAB_HEALTH_PORT"
            log = folder / f"{kind}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "confab", kind],
                    env={**env, setting: str(port)},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            children[kind] = Child(kind, process, f"http://127.0.0.1:{port}", log)
            wait_live(children[kind])
        yield children
    finally:
        for child in children.values():
            if child.process.poll() is None:
                child.process.kill()
                child.process.wait()


def wait_live(child: Child) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        assert child.process.poll() is None, f"{child.kind} exited: {child.log.read_text()[-2000:]}"
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{child.url}/healthz", timeout=2).status_code == 200:
                return
        assert time.monotonic() < deadline, f"{child.kind} did not come up"
        time.sleep(0.3)


def samples(child: Child) -> dict[str, float]:
    """Every sample of the process's /metrics, keyed by name and labels."""
    text = httpx.get(f"{child.url}/metrics", timeout=5).text
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            found[key] = float(value)
    return found


def total(found: dict[str, float], name: str) -> float:
    return sum(v for k, v in found.items() if k == name or k.startswith(name + "{"))


def test_every_process_is_live_and_ready(processes: dict[str, Child]) -> None:
    for child in processes.values():
        assert httpx.get(f"{child.url}/healthz").json() == {"status": "ok"}
        ready = httpx.get(f"{child.url}/readyz")
        assert ready.status_code == 200, (child.kind, ready.text)
        body = ready.json()
        assert body["status"] == "ready" and body["checks"], child.kind
        assert set(body["checks"].values()) == {"ok"}
    assert "database" in httpx.get(f"{processes['relay'].url}/readyz").json()["checks"]
    missing = httpx.get(f"{processes['worker'].url}/nowhere")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


async def test_a_turn_moves_every_metric_and_one_request_id_follows_it(
    processes: dict[str, Child],
) -> None:
    api = processes["api"].url
    before = {kind: samples(child) for kind, child in processes.items()}
    async with httpx.AsyncClient(base_url=api) as http:
        registered = await http.post(
            "/api/auth/register",
            json={
                "email": "probe@example.com",
                "password": "probe password 1",
                "display_name": "Probe",
            },
        )
        assert registered.status_code in (200, 201), registered.text
        cookie = registered.cookies["confab_session"]
    ws_url = api.replace("http", "ws") + "/ws"
    async with ChatClient.connect(ws_url, {"Cookie": f"confab_session={cookie}"}) as chat:
        accepted, final, deltas = await chat.turn("Say hello.")
        await chat.ws.send("not json")  # an error frame, counted by its code
        error, _ = await chat.until("error")
    assert final["type"] == "message" and deltas
    assert error["code"] == "bad_frame"
    request_id = accepted["response_id"]

    after = {kind: samples(child) for kind, child in processes.items()}

    def grew(kind: str, name: str) -> bool:
        return total(after[kind], name) > total(before[kind], name)

    assert grew("worker", "confab_worker_tokens_total")
    assert grew("worker", "confab_worker_ttft_seconds_count")
    assert grew("worker", "confab_worker_responses_total")
    assert grew("relay", "confab_relay_published_events_total")
    assert grew("projector", "confab_projector_applied_events_total")
    assert grew("api", "confab_ws_messages_accepted_total")
    assert grew("api", "confab_ws_errors_total")
    assert grew("api", "confab_http_requests_total")

    # One id through the API and the worker, in JSON log lines.
    await asyncio.sleep(0.5)  # the API logs the delivery as it sends the final frame
    api_lines = [r for r in processes["api"].records() if r.get("request_id") == request_id]
    worker_lines = [r for r in processes["worker"].records() if r.get("request_id") == request_id]
    assert {r["message"] for r in api_lines} >= {"message accepted", "response delivered"}
    assert "answering" in {r["message"] for r in worker_lines}
    assert any(str(r["message"]).startswith("answered:") for r in worker_lines)
    assert all(r["logger"] and r["ts"] and r["level"] for r in api_lines + worker_lines)


def test_the_dashboard_asks_only_for_exposed_metrics(processes: dict[str, Child]) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["title"] == "Confab" and dashboard["panels"]
    assert any(v["type"] == "datasource" for v in dashboard["templating"]["list"])
    exposed: set[str] = set()
    for child in processes.values():
        text = httpx.get(f"{child.url}/metrics", timeout=5).text
        exposed |= set(re.findall(r"^(confab_[a-z0-9_]+)", text, flags=re.MULTILINE))
    asked = set()
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            asked |= set(re.findall(r"\b(confab_[a-z0-9_]+)", target["expr"]))
    assert asked, "the dashboard charts nothing"
    assert asked <= exposed, f"not exposed by any process: {sorted(asked - exposed)}"


def test_sigterm_stops_every_process_cleanly(processes: dict[str, Child]) -> None:
    for kind in reversed(KINDS):  # the API first, as a rolling restart would
        child = processes[kind]
        child.process.send_signal(signal.SIGTERM)
        try:
            code = child.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{kind} did not stop within 60 s of SIGTERM")
        assert code == 0, (kind, child.log.read_text()[-2000:])
