"""What Confab adds on top of the engine: send-to-first-delta at a client minus the engine's TTFT.

    .venv/bin/python -m bench.overhead [--clients 50] [--turns 3]

Starts `confab up` (relay, projector, one worker, API as separate processes) on a database and
subject prefix of its own, connects `--clients` websocket clients, each signed in as its own
user, and has each send `--turns` messages. For every turn it records, at the client:

- accepted: send -> the `accepted` frame (the API appended MessagePosted + ResponseRequested);
- first delta: send -> the first `delta` frame;
- engine TTFT: the worker's own time from handing the request to the engine to its first token
  (`usage.ttft_ms` on the final `message` frame);
- overhead: first delta - engine TTFT, i.e. the API, the append, the relay, JetStream, the
  worker's consumer and prompt building, and the way back through NATS and the API.

Writes bench/results/overhead-<device>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import nats
import psycopg
from nats.js.errors import NotFoundError
from psycopg import sql
from websockets.asyncio.client import ClientConnection, connect

from bench.engine import machine
from commands.wire import Subjects
from confab.settings import Settings, load_settings

RESULTS = Path(__file__).parent / "results"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 1)


async def fresh(settings: Settings) -> None:
    with psycopg.connect(settings.conninfo("postgres"), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(settings.db_name)
            )
        )
    nc = await nats.connect(settings.nats_url)
    with contextlib.suppress(NotFoundError):
        await nc.jetstream().delete_stream(Subjects(settings.bus_prefix).stream)
    await nc.close()


async def wait_for_port(port: int, process: asyncio.subprocess.Process) -> None:
    for _ in range(1200):
        if process.returncode is not None:
            raise RuntimeError("confab up exited while starting")
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.1)
    raise TimeoutError("the API did not start")


async def sign_up(base: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        email = f"{uuid.uuid4().hex[:12]}@bench.example"
        response = await http.post(
            "/api/auth/register",
            json={"email": email, "password": "bench password 1", "display_name": "bench"},
        )
        response.raise_for_status()
        return str(response.cookies["confab_session"])


async def turn(ws: ClientConnection, conversation_id: str | None, text: str) -> dict[str, Any]:
    frame = {"type": "send", "conversation_id": conversation_id, "client_msg_id": str(uuid.uuid4())}
    sent = time.perf_counter()
    await ws.send(json.dumps({**frame, "text": text}))
    accepted = first = None
    while True:
        got = json.loads(await asyncio.wait_for(ws.recv(), 300))
        now = time.perf_counter()
        kind = got["type"]
        if kind == "accepted" and accepted is None:
            accepted = now
            conversation_id = got["conversation_id"]
        elif kind == "delta" and first is None:
            first = now
        elif kind == "message" and got.get("role") == "assistant":
            break
        elif kind == "error":
            raise RuntimeError(got)
    assert accepted is not None and first is not None
    engine_ttft = float(got["usage"]["ttft_ms"])
    to_first = (first - sent) * 1000
    return {
        "conversation_id": conversation_id,
        "accepted_ms": (accepted - sent) * 1000,
        "first_delta_ms": to_first,
        "engine_ttft_ms": engine_ttft,
        "overhead_ms": to_first - engine_ttft,
    }


async def client(ws_url: str, cookie: str, turns: int, start_in: float) -> list[dict[str, Any]]:
    await asyncio.sleep(start_in)
    results = []
    headers = {"Cookie": f"confab_session={cookie}"}
    async with connect(ws_url, additional_headers=headers, max_size=None) as ws:
        conversation: str | None = None
        for i in range(turns):
            result = await turn(ws, conversation, f"Give me one word for a colour, please ({i}).")
            conversation = result["conversation_id"]
            results.append(result)
            await asyncio.sleep(random.uniform(0.05, 0.3))  # a person reads, then types
    return results


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    settings = load_settings(db_name="confab_bench", bus_prefix="confabbench", api_port=port)
    await fresh(settings)
    env = {
        **os.environ,
        "CONFAB_DB_NAME": settings.db_name,
        "CONFAB_BUS_PREFIX": settings.bus_prefix,
        "CONFAB_PORT": str(port),
        "CONFAB_HOST": "127.0.0.1",
        "CONFAB_WORKER_CONCURRENCY": str(args.clients + 8),
        "CONFAB_MAX_NEW_TOKENS": str(args.new_tokens),
        "CONFAB_LOG_LEVEL": "WARNING",
    }
    confab = Path(sys.executable).with_name("confab")
    process = await asyncio.create_subprocess_exec(str(confab), "up", env=env)
    try:
        await wait_for_port(port, process)
        base, ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws"
        cookies = [await sign_up(base) for _ in range(args.clients)]
        # One turn first: the worker loads the model before it answers anything.
        await client(ws_url, cookies[0], 1, 0.0)
        started = time.perf_counter()
        per_client = await asyncio.gather(
            *(
                client(ws_url, cookie, args.turns, i * args.stagger_ms / 1000)
                for i, cookie in enumerate(cookies)
            )
        )
        wall = time.perf_counter() - started
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=60)
    turns = [t for results in per_client for t in results]

    def stats(key: str) -> dict[str, float]:
        values = [t[key] for t in turns]
        return {"p50": percentile(values, 0.5), "p99": percentile(values, 0.99)}

    return {
        "machine": machine(),
        "clients": args.clients,
        "turns": len(turns),
        "new_tokens": args.new_tokens,
        "wall_s": round(wall, 1),
        "accepted_ms": stats("accepted_ms"),
        "first_delta_ms": stats("first_delta_ms"),
        "engine_ttft_ms": stats("engine_ttft_ms"),
        "overhead_ms": stats("overhead_ms"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--turns", type=int, default=3, help="messages each client sends")
    parser.add_argument("--new-tokens", type=int, default=16, help="reply length cap")
    parser.add_argument("--stagger-ms", type=float, default=40.0, help="between client starts")
    args = parser.parse_args()
    report = asyncio.run(bench(args))
    print(json.dumps(report["machine"]))
    print(f"{report['clients']} clients, {report['turns']} turns in {report['wall_s']} s")
    for key in ("accepted_ms", "first_delta_ms", "engine_ttft_ms", "overhead_ms"):
        figures = report[key]
        print(f"{key:16} p50 {figures['p50']:8.1f} ms   p99 {figures['p99']:8.1f} ms")
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / f"overhead-{'cuda' if report['machine']['device'] != 'cpu' else 'cpu'}.json"
    target.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
