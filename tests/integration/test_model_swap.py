"""A promoted model reaches the running worker without a restart, and responses name it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from commands import models
from commands.app import ConfabStore
from confab import bootstrap
from domain.model_version import BASE_VERSION, PromotionGate, TrainingMetrics
from tests.integration.conftest import Account, Stack
from tests.integration.test_datasets import completed_events
from tests.integration.wsclient import ChatClient


@pytest.fixture
def store(stack: Stack) -> Iterator[ConfabStore]:
    store = bootstrap.build_store(stack.settings)
    yield store
    store.close()


async def test_a_promoted_version_is_served_by_the_running_worker(
    stack: Stack, alice: Account, store: ConfabStore
) -> None:
    # The same weights under a new version name: what is tested is the pick-up, not training.
    version = f"swap-{uuid.uuid4().hex[:8]}"
    relative = f"models/trained/{version}"
    link = stack.settings.data_dir / relative
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(stack.settings.model_path.resolve(), target_is_directory=True)
    try:
        async with ChatClient.connect(stack.ws_url, alice.headers) as client:
            before, _, _ = await client.turn("Say one word.")
            served_before = completed_events(stack, before["conversation_id"])[0]["model_version"]
            models.record_training(
                store, version, BASE_VERSION, relative, {}, TrainingMetrics(2, 1, 1, 1), {}
            )
            assert models.consider_promotion(store, version, PromotionGate())
            served = []
            for attempt in range(10):  # requests already fetched finish on the old weights
                accepted, final, _ = await client.turn(f"Say the number {attempt}.")
                assert final["type"] == "message", final
                served.append(
                    completed_events(stack, accepted["conversation_id"])[0]["model_version"]
                )
                if served[-1] == version:
                    break
    finally:
        link.unlink()

    assert served_before == BASE_VERSION
    assert served[-1] == version, served
    assert models.serving_model(store) == (version, relative)
