"""Handlers over the model registry: record a training run, decide its promotion, ask who serves."""

from __future__ import annotations

from typing import Any

from eventsourcing.application import AggregateNotFoundError

from commands.app import ConfabStore
from commands.handlers import change
from domain.model_version import (
    REGISTRY_ID,
    ModelRegistry,
    PromotionGate,
    TrainingMetrics,
)


def registry(store: ConfabStore) -> ModelRegistry:
    """The installation's registry; a fresh one (the base model serving) before any training."""
    try:
        found: object = store.repository.get(REGISTRY_ID)
    except AggregateNotFoundError:
        return ModelRegistry.start()
    assert isinstance(found, ModelRegistry)
    return found


def serving_model(store: ConfabStore) -> tuple[str, str]:
    """(version, path relative to the data directory; "" for the base model) that serves now."""
    current = registry(store)
    return current.serving, current.serving_path


def record_training(
    store: ConfabStore,
    version: str,
    base_version: str,
    path: str,
    dataset: dict[str, Any],
    metrics: TrainingMetrics,
    config: dict[str, Any],
) -> None:
    change(
        store,
        lambda: registry(store),
        lambda r: r.record_training(version, base_version, path, dataset, metrics, config),
    )


def consider_promotion(store: ConfabStore, version: str, gate: PromotionGate) -> bool:
    """True when `version` was promoted; False when the refusal was recorded."""
    decided: list[bool] = []

    def decide(r: ModelRegistry) -> None:
        decided[:] = [r.consider(version, gate)]

    change(store, lambda: registry(store), decide)
    return decided[0]
