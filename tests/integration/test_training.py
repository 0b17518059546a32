"""`confab train` on the real model and PostgreSQL: a good run is promoted, a blown one is not.

Short on purpose (tiny examples, a few LoRA steps): the model is SmolLM2-135M on the CPU.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import msgspec
import psycopg
import pytest
import torch
from psycopg import sql

from commands import models
from commands.app import ConfabStore
from confab import bootstrap
from confab.settings import Settings
from domain.conversation import Completion, Conversation, ResponseSettings
from domain.model_version import BASE_VERSION, PromotionGate
from projections.datasets import Filters
from workers.dataset_build import Until, build
from workers.training.data import encode_rows
from workers.training.loop import TrainConfig, train, with_lora
from workers.training.run import run_training

COLOURS = ["red", "blue", "green", "amber", "violet", "teal", "ochre", "pink", "grey", "cyan"]
SETTINGS = ResponseSettings("bot-1", "Helper", "SmolLM2", "", {})
GATE = PromotionGate(min_gain=0.05, sanity_tolerance=0.10)


@pytest.fixture(scope="module")
def store(settings: Settings) -> Iterator[ConfabStore]:
    """A database of its own: promotions here must not change the model other tests chat with."""
    own = msgspec.structs.replace(settings, db_name=f"{settings.db_name}_train")
    with psycopg.connect(own.conninfo("postgres"), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(own.db_name))
        )
    bootstrap.ensure_database(own)
    store = bootstrap.build_store(own)
    for i in range(30):  # one style to learn: "Confab says: the colour is X."
        colour = COLOURS[i % len(COLOURS)]
        # Fixed ids: the held-out split is a hash of the id, and random ids made the runs'
        # sanity loss vary from one test session to the next (once past the gate's 10%).
        conv_id = uuid.uuid5(uuid.NAMESPACE_URL, f"confab-training-test-{i}")
        conv = Conversation(id=conv_id, user_id=f"u{i}", title="t", bot_id="bot-1")
        _, response_id = conv.post_message(f"u{i}", "c", f"Pick colour number {i}.", {}, SETTINGS)
        conv.complete_response(
            response_id,
            Completion(
                f"Confab says: the colour is {colour}.",
                "stop",
                1,
                1,
                "m",
                1.0,
                1.0,
                "base",
                (str(conv.turns[0].id),),
            ),
        )
        store.save(conv)
    yield store
    store.close()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where trained versions go; shared, since each run trains from the version serving."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def dataset(store: ConfabStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder, manifest = build(
        store,
        tmp_path_factory.mktemp("ds"),
        Path("unused"),
        Filters(heldout_percent=20),
        Until(),
        progress=False,
    )
    assert manifest["counts"]["heldout"] > 0 and manifest["counts"]["train"] > 0
    return folder


def test_a_good_run_is_recorded_and_promoted(
    store: ConfabStore, dataset: Path, settings: Settings, data_dir: Path
) -> None:
    # A clearly good run: held-out loss 4.07 -> 2.69, sanity +4.5% (the gate allows 10%). At
    # 5e-4 the sanity loss rose by 9.5-10.5% with the split, and a session could fail on it.
    config = TrainConfig(steps=6, batch_size=2, lr=3e-4, max_len=64, checkpoint_every=3)

    outcome = run_training(
        store, data_dir, settings.model_path, dataset, config, GATE, progress=False
    )

    m = outcome.metrics
    assert outcome.promoted, (outcome.reason, m)
    assert m.heldout_loss_after < m.heldout_loss_before * 0.95
    assert models.serving_model(store) == (outcome.version, f"models/trained/{outcome.version}")
    assert (data_dir / "models" / "trained" / outcome.version / "config.json").exists()
    assert (data_dir / "training" / outcome.version / "checkpoint" / "state.json").exists()
    recorded = models.registry(store).versions[outcome.version]
    assert recorded["metrics"]["heldout_loss_after"] == m.heldout_loss_after
    assert recorded["dataset"]["heldout_examples"] > 0


def test_a_blown_learning_rate_is_recorded_and_not_promoted(
    store: ConfabStore, dataset: Path, settings: Settings, data_dir: Path
) -> None:
    serving_before = models.serving_model(store)
    config = TrainConfig(steps=2, batch_size=2, lr=5.0, max_len=64, warmup_steps=1)

    outcome = run_training(
        store, data_dir, settings.model_path, dataset, config, GATE, progress=False
    )

    assert not outcome.promoted
    assert "held-out loss" in (outcome.reason or "")
    assert models.serving_model(store) == serving_before
    assert models.registry(store).versions[outcome.version]["status"] == "refused"
    assert not (data_dir / "models" / "trained" / outcome.version).exists()


def test_an_interrupted_run_resumes_to_the_same_weights(
    dataset: Path, settings: Settings, tmp_path: Path
) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from projections.dataset_files import read_rows

    tokenizer = AutoTokenizer.from_pretrained(settings.model_path)
    examples = encode_rows(tokenizer, read_rows(dataset)[:8], 64)

    def adapters(steps_first: int | None, run_dir: Path) -> dict[str, torch.Tensor]:
        config = TrainConfig(steps=4, batch_size=2, lr=1e-3, max_len=64, checkpoint_every=2)
        model = with_lora(AutoModelForCausalLM.from_pretrained(settings.model_path), config)
        if steps_first is not None:  # stopped after a checkpoint, then run again
            first = TrainConfig(**{**config.as_dict(), "steps": steps_first})
            train(model, examples, first, run_dir, 0, progress=False)
            model = with_lora(AutoModelForCausalLM.from_pretrained(settings.model_path), config)
        losses = train(model, examples, config, run_dir, 0, progress=False)
        assert len(losses) == 4 - (steps_first or 0)
        return {k: v.detach().clone() for k, v in model.named_parameters() if v.requires_grad}

    whole = adapters(None, tmp_path / "whole")
    resumed = adapters(2, tmp_path / "resumed")

    assert whole.keys() == resumed.keys()
    for name, value in whole.items():
        torch.testing.assert_close(value, resumed[name], msg=name)


def test_the_base_model_serves_before_any_promotion(settings: Settings) -> None:
    fresh = ConfabStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    assert models.serving_model(fresh) == (BASE_VERSION, "")
