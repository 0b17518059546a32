"""Import rate: a generated ChatGPT export through `confab import`, beside the raw write rate.

    .venv/bin/python -m bench.imports [--messages 20000] [--turns 20]

Generates an export of `--messages` messages (conversations of `--turns` turns, a branch in
every tenth), then, in a database of its own, measures in this run:

- raw write: the same number of rows of the same size into a plain PostgreSQL table, 1,000
  rows a transaction (executemany): what the disk and server allow without an event store;
- parse: reading and checking the export (msgspec);
- import: `import_export` as `confab import` runs it (1,000 events a save), events/s;
- one save a conversation: the same import saving each conversation on its own;
- re-import: the same export again, which records nothing (every conversation is loaded).

Writes bench/results/import.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from commands import accounts
from commands.app import ConfabStore
from commands.chatgpt_export import parse_export
from commands.imports import Export, import_export
from confab import bootstrap
from confab.settings import load_settings

RESULTS = Path(__file__).parent / "results"
WORDS = [
    "river",
    "lighthouse",
    "bread",
    "starter",
    "flour",
    "recipe",
    "python",
    "chart",
    "sales",
    "month",
    "weekend",
    "trip",
    "porto",
    "lisbon",
    "knot",
    "harbor",
    "engine",
    "model",
    "token",
    "search",
    "index",
    "event",
    "store",
    "log",
    "replay",
    "garden",
    "tomato",
    "winter",
    "coat",
    "bicycle",
    "repair",
    "chain",
    "budget",
    "invoice",
    "report",
    "summary",
]


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {"cpu": cpu, "cores": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2)}


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def generated_export(messages: int, turns: int, seed: int = 7) -> bytes:
    """A ChatGPT-shaped export: a system root, alternating turns, an edit in every tenth."""
    rng, conversations, start = random.Random(seed), [], 1_680_000_000.0
    for c in range(messages // turns):
        at = start + c * 3600.0
        mapping: dict[str, Any] = {"root": {"message": None, "parent": None, "children": []}}
        parent = "root"
        for t in range(turns):
            node = f"n{t}"
            role = "user" if t % 2 == 0 else "assistant"
            branch_from = parent
            if c % 10 == 0 and t == turns - 2:  # the user edited this message: a sibling
                branch_from = mapping[parent]["parent"] or "root"
            mapping[node] = {
                "message": {
                    "author": {"role": role},
                    "content": {"content_type": "text", "parts": [sentence(rng, 30)]},
                    "create_time": at + t * 20,
                    "metadata": {"model_slug": "gpt-4o"} if role == "assistant" else {},
                },
                "parent": branch_from,
                "children": [],
            }
            mapping[branch_from]["children"].append(node)
            parent = node
        conversations.append(
            {
                "id": f"bench-{c}",
                "title": sentence(rng, 4),
                "create_time": at,
                "mapping": mapping,
                "current_node": parent,
            }
        )
    return json.dumps(conversations).encode()


def raw_write_rate(conninfo: str, export: Export) -> float:
    rows = [
        (uuid.uuid4(), uuid.uuid4(), t.role, t.text, t.at)
        for c in export.conversations
        for t in c.turns
    ]
    with psycopg.connect(conninfo) as conn:
        conn.execute(
            "CREATE TABLE bench_raw (id uuid PRIMARY KEY, conversation uuid, role text,"
            " text text, at timestamptz)"
        )
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur:
            for i in range(0, len(rows), 1000):
                cur.executemany(
                    "INSERT INTO bench_raw VALUES (%s, %s, %s, %s, %s)", rows[i : i + 1000]
                )
                conn.commit()
        return len(rows) / (time.perf_counter() - started)


def timed_import(
    store: ConfabStore, user_id: uuid.UUID, export: Export, batch: int
) -> dict[str, float]:
    started = time.perf_counter()
    report = import_export(store, user_id, export, batch_events=batch)
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "events": report.events_recorded,
        "events_per_s": round(report.events_recorded / seconds, 0),
        "conversations_per_s": round(len(export.conversations) / seconds, 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--turns", type=int, default=20)
    args = parser.parse_args()
    settings = load_settings(db_name="confab_bench_import", log_level="WARNING")
    with psycopg.connect(settings.conninfo("postgres"), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(settings.db_name)
            )
        )
    bootstrap.ensure_database(settings)
    report: dict[str, Any] = {"machine": machine(), "messages": args.messages}

    data = generated_export(args.messages, args.turns)
    started = time.perf_counter()
    export = parse_export(data, "generated")
    report["parse"] = {
        "megabytes": round(len(data) / 1e6, 1),
        "seconds": round(time.perf_counter() - started, 2),
    }
    report["raw_write_rows_per_s"] = round(raw_write_rate(settings.conninfo(), export), 0)

    store = bootstrap.build_store(settings)
    try:
        ann = accounts.register(store, "ann@example.com", "bench password 1", "ann")
        bea = accounts.register(store, "bea@example.com", "bench password 1", "bea")
        report["import"] = timed_import(store, ann.id, export, batch=1000)
        report["reimport"] = timed_import(store, ann.id, export, batch=1000)
        report["one_save_a_conversation"] = timed_import(store, bea.id, export, batch=1)
    finally:
        store.close()
    raw = report["raw_write_rows_per_s"]
    report["import_vs_raw"] = round(report["import"]["events_per_s"] / raw, 3)
    report["batched_vs_one_save_a_conversation"] = round(
        report["import"]["events_per_s"] / report["one_save_a_conversation"]["events_per_s"], 2
    )
    report["machine"]["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "import.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
