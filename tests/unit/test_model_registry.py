"""The model registry and its promotion gate, on their own."""

from __future__ import annotations

import pytest

from domain.model_version import (
    BASE_VERSION,
    ModelRegistry,
    ModelVersionExists,
    ModelVersionNotFound,
    PromotionAlreadyDecided,
    PromotionGate,
    TrainingMetrics,
)

GATE = PromotionGate(min_gain=0.05, sanity_tolerance=0.02)
BETTER = TrainingMetrics(2.0, 1.5, 1.0, 1.01)


def trained(metrics: TrainingMetrics, version: str = "ft-1") -> ModelRegistry:
    registry = ModelRegistry.start()
    registry.record_training(version, BASE_VERSION, f"models/trained/{version}", {}, metrics, {})
    return registry


def test_a_fresh_registry_serves_the_base_model() -> None:
    registry = ModelRegistry.start()
    assert registry.serving == BASE_VERSION and registry.serving_path == ""


def test_a_version_that_improves_held_out_loss_without_regressing_sanity_is_promoted() -> None:
    registry = trained(BETTER)
    assert registry.consider("ft-1", GATE) is True
    assert registry.serving == "ft-1" and registry.serving_path == "models/trained/ft-1"
    names = [type(e).__name__ for e in registry.collect_events()]
    assert names == ["Created", "ModelTrained", "ModelPromoted"]


@pytest.mark.parametrize(
    ("metrics", "why"),
    [
        (TrainingMetrics(2.0, 1.95, 1.0, 1.0), "held-out"),  # better, but not by 5%
        (TrainingMetrics(2.0, 2.5, 1.0, 1.0), "held-out"),  # worse
        (TrainingMetrics(2.0, float("nan"), 1.0, 1.0), "held-out"),  # diverged
        (TrainingMetrics(2.0, 1.0, 1.0, 1.05), "sanity"),  # learnt the data, forgot the rest
    ],
)
def test_a_version_that_misses_the_gate_is_recorded_and_not_promoted(
    metrics: TrainingMetrics, why: str
) -> None:
    registry = trained(metrics)
    assert registry.consider("ft-1", GATE) is False
    assert registry.serving == BASE_VERSION
    assert why in registry.versions["ft-1"]["reason"]
    assert type(registry.collect_events()[-1]).__name__ == "PromotionRefused"


def test_versions_are_recorded_once_and_decided_once() -> None:
    registry = trained(BETTER)
    with pytest.raises(ModelVersionExists):
        registry.record_training("ft-1", BASE_VERSION, "x", {}, BETTER, {})
    with pytest.raises(ModelVersionNotFound):
        registry.record_training("ft-2", "ft-unknown", "x", {}, BETTER, {})
    with pytest.raises(ModelVersionNotFound):
        registry.consider("ft-9", GATE)
    registry.consider("ft-1", GATE)
    with pytest.raises(PromotionAlreadyDecided):
        registry.consider("ft-1", GATE)
