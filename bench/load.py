"""A load test: many websocket users chatting at once, for a bounded time, through nginx.

    .venv/bin/python -m bench.load [--users 200] [--duration 60] [--api 2] [--workers 1]

Starts `confab up --api N --workers M` (APIs behind nginx) on a database and subject prefix of
its own, signs up `--users` accounts, and has each user, over its own websocket, send a
message, wait for the whole reply, read for a moment and send the next, until `--duration`
seconds have passed; replies still under way then get `--grace` seconds to finish. It prints
and writes to bench/results/load-<device>.json:

- accepted turns/s (the API appended the message and asked for a reply) and answered turns/s;
- p50/p99 of send -> accepted, send -> first delta and send -> whole reply;
- errors by kind: error frames by code, refused or dropped connections, replies unfinished.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from bench.engine import machine
from bench.overhead import free_port, fresh, percentile, sign_up, wait_for_port
from confab.settings import load_settings

RESULTS = Path(__file__).parent / "results"


@dataclass
class Tally:
    accepted: list[float] = field(default_factory=list)
    first_delta: list[float] = field(default_factory=list)
    answered: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


async def user(ws_url: str, cookie: str, until: float, grace: float, tally: Tally) -> None:
    """One person: send, wait for the whole reply, pause, again, until the time is up."""
    headers = {"Cookie": f"confab_session={cookie}"}
    await asyncio.sleep(random.uniform(0, 2))  # people do not all arrive in the same instant
    try:
        async with connect(ws_url, additional_headers=headers, max_size=None) as ws:
            conversation: str | None = None
            while time.monotonic() < until:
                conversation = await turn(ws, conversation, until + grace, tally)
                await asyncio.sleep(random.uniform(0.5, 2.0))
    except (OSError, WebSocketException) as exc:
        tally.errors[f"connection: {type(exc).__name__}"] += 1


async def turn(ws: Any, conversation: str | None, deadline: float, tally: Tally) -> str | None:
    frame = {
        "type": "send",
        "conversation_id": conversation,
        "client_msg_id": str(uuid.uuid4()),
        "text": random.choice(PROMPTS),
    }
    sent = time.perf_counter()
    await ws.send(json.dumps(frame))
    first = False
    while True:
        try:
            got = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
        except TimeoutError:
            tally.errors["unfinished at the end"] += 1
            return conversation
        elapsed = (time.perf_counter() - sent) * 1000
        kind = got["type"]
        if kind == "accepted":
            tally.accepted.append(elapsed)
            conversation = got["conversation_id"]
        elif kind == "delta" and not first:
            first = True
            tally.first_delta.append(elapsed)
        elif kind == "message" and got.get("role") == "assistant":
            tally.answered.append(elapsed)
            return conversation
        elif kind == "error":
            tally.errors[f"error frame: {got.get('code')}"] += 1
            return conversation


PROMPTS = [
    "Give me one word for a colour.",
    "What is the capital of France?",
    "Name a fruit that is yellow.",
    "Say hello in Spanish.",
    "What is two plus two?",
]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    settings = load_settings(db_name="confab_load", bus_prefix="confabload", api_port=port)
    await fresh(settings)
    env = {
        **os.environ,
        "CONFAB_DB_NAME": settings.db_name,
        "CONFAB_BUS_PREFIX": settings.bus_prefix,
        "CONFAB_PORT": str(port),
        "CONFAB_HEALTH_PORT": str(free_port()),
        "CONFAB_HOST": "127.0.0.1",
        "CONFAB_WORKER_CONCURRENCY": str(args.concurrency),
        "CONFAB_MAX_NEW_TOKENS": str(args.new_tokens),
        "CONFAB_GENERATE_TITLES": "0",
        "CONFAB_LOG_LEVEL": "WARNING",
    }
    confab = Path(sys.executable).with_name("confab")
    command = ["up", "--api", str(args.api), "--workers", str(args.workers), "--nginx"]
    process = await asyncio.create_subprocess_exec(str(confab), *command, env=env)
    tally = Tally()
    try:
        await wait_for_port(port, process)
        base, ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws"
        cookies = await asyncio.gather(*(sign_up(base) for _ in range(args.users)))
        warm = Tally()  # the worker loads its model before it answers anything
        await user(ws_url, cookies[0], time.monotonic() + 0.1, 300, warm)
        started = time.monotonic()
        until = started + args.duration
        await asyncio.gather(*(user(ws_url, c, until, args.grace, tally) for c in cookies))
        wall = time.monotonic() - started
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=60)

    def stats(values: list[float]) -> dict[str, float]:
        if not values:
            return {"p50": 0.0, "p99": 0.0}
        return {"p50": percentile(values, 0.5), "p99": percentile(values, 0.99)}

    return {
        "machine": machine(),
        "users": args.users,
        "api_processes": args.api,
        "workers": args.workers,
        "worker_concurrency": args.concurrency,
        "new_tokens": args.new_tokens,
        "duration_s": args.duration,
        "wall_s": round(wall, 1),
        "accepted_turns": len(tally.accepted),
        "answered_turns": len(tally.answered),
        "accepted_per_s": round(len(tally.accepted) / wall, 2),
        "answered_per_s": round(len(tally.answered) / wall, 2),
        "accepted_ms": stats(tally.accepted),
        "first_delta_ms": stats(tally.first_delta),
        "answered_ms": stats(tally.answered),
        "errors": dict(tally.errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of sending")
    parser.add_argument("--grace", type=float, default=60.0, help="for replies under way")
    parser.add_argument("--api", type=int, default=2, help="API processes behind nginx")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=32, help="sequences per worker")
    parser.add_argument("--new-tokens", type=int, default=16, help="reply length cap")
    args = parser.parse_args()
    report = asyncio.run(run(args))
    print(json.dumps(report["machine"]))
    print(
        f"{report['users']} users for {report['duration_s']:.0f} s "
        f"({report['api_processes']} APIs behind nginx, {report['workers']} worker(s))"
    )
    print(
        f"accepted {report['accepted_turns']} turns ({report['accepted_per_s']}/s), "
        f"answered {report['answered_turns']} ({report['answered_per_s']}/s)"
    )
    for key in ("accepted_ms", "first_delta_ms", "answered_ms"):
        figures = report[key]
        print(f"{key:16} p50 {figures['p50']:9.1f} ms   p99 {figures['p99']:9.1f} ms")
    print(f"errors: {report['errors'] or 'none'}")
    RESULTS.mkdir(exist_ok=True)
    device = "cpu" if report["machine"]["device"] == "cpu" else "cuda"
    target = RESULTS / f"load-{device}.json"
    target.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
