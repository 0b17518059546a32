"""A real learning-loop run: import a public dialog corpus, build the dataset, train, gate.

    .venv/bin/python -m bench.training_run --corpus DIR [--db confab_training_run]
        [--steps 150] [--batch-size 8] [--lr 5e-4] [--max-len 128]

The corpus is the English part of the `chatterbot-corpus` package (PyPI; YAML files of
conversations written by its contributors, not by us): install it anywhere with
`pip install --no-deps --target /tmp/chatcorpus chatterbot-corpus` and pass
/tmp/chatcorpus/chatterbot_corpus/data/english. Each conversation is imported as a Confab
conversation of TurnRecorded user/assistant turns (the events an importer records), into a
database of its own that this run drops and creates. Then `confab dataset build` and
`confab train` run as the CLI runs them; bench/results/training-<device>.json gets the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import uuid
from pathlib import Path
from typing import Any

import msgspec
import psycopg
import yaml
from psycopg import sql

from commands.app import ConfabStore
from confab import bootstrap
from confab.settings import Settings, load_settings
from domain.conversation import Conversation
from domain.model_version import PromotionGate
from projections.datasets import Filters
from workers.dataset_build import Until, build
from workers.training.loop import TrainConfig
from workers.training.run import run_training

RESULTS = Path(__file__).parent / "results"
NAMESPACE = uuid.UUID("0d6f6f59-43c4-4d0e-a7b6-2f0a3c1e9b55")


def import_corpus(store: ConfabStore, corpus: Path) -> tuple[int, int]:
    """Every YAML conversation as a Conversation of recorded turns; (conversations, turns)."""
    conversations = turns = 0
    for path in sorted(corpus.glob("*.yml")):
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        batch = []
        for index, lines in enumerate(loaded.get("conversations") or []):
            texts = [str(line).strip() for line in lines if str(line).strip()]
            if len(texts) < 2:
                continue
            conv = Conversation(
                id=uuid.uuid5(NAMESPACE, f"{path.name}:{index}"),
                user_id="corpus",
                title=texts[0][:60],
                bot_id="",
            )
            for position, text in enumerate(texts):
                role = "user" if position % 2 == 0 else "assistant"
                conv.record_turn(role, text, "chatterbot-corpus", "import")
            batch.append(conv)
            turns += len(texts)
        store.save(*batch)
        conversations += len(batch)
    return conversations, turns


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


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--corpus", type=Path, required=True)
    args.add_argument("--db", default="confab_training_run")
    args.add_argument("--steps", type=int, default=150)
    args.add_argument("--batch-size", type=int, default=8)
    args.add_argument("--lr", type=float, default=5e-4)
    args.add_argument("--max-len", type=int, default=128)
    options = args.parse_args()
    base = load_settings()
    settings = msgspec.structs.replace(base, db_name=options.db)
    data_dir = settings.data_dir / "training-run"
    report: dict[str, Any] = {"machine": machine()}
    fresh_database(settings)
    store = bootstrap.build_store(settings)
    started = time.perf_counter()
    conversations, turns = import_corpus(store, options.corpus)
    report["import"] = {
        "conversations": conversations,
        "turns": turns,
        "seconds": round(time.perf_counter() - started, 1),
    }
    started = time.perf_counter()
    folder, manifest = build(store, data_dir / "dataset", data_dir, Filters(), Until())
    report["dataset"] = {**manifest["counts"], "seconds": round(time.perf_counter() - started, 1)}
    config = TrainConfig(
        steps=options.steps, batch_size=options.batch_size, lr=options.lr, max_len=options.max_len
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
