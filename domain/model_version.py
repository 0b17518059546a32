"""The model registry: which weights were trained from which dataset, and which one serves.

One registry per installation (a fixed id), so "which model serves now" is one aggregate's
state and two trainers cannot both promote (optimistic concurrency). Promotion is gated: a
trained version is promoted only when its held-out loss fell by the gate's margin and its
loss on the fixed sanity set did not rise beyond the tolerance; otherwise the refusal and its
reason are recorded. Model files live under the data directory; events hold the relative path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.copying import CopiedFast
from domain.errors import DomainError

REGISTRY_ID = uuid5(UUID("6f2b8f0e-4d43-4c8e-9a55-1f7c3a1f0c11"), "model-registry")
BASE_VERSION = "base"  # the prepared model every installation starts with


class ModelVersionExists(DomainError):
    code = "model_version_exists"


class ModelVersionNotFound(DomainError):
    code = "model_version_not_found"


class PromotionAlreadyDecided(DomainError):
    code = "promotion_already_decided"


@dataclass(frozen=True)
class TrainingMetrics:
    """Mean token losses (nats) before and after training, on held-out data and the sanity set."""

    heldout_loss_before: float
    heldout_loss_after: float
    sanity_loss_before: float
    sanity_loss_after: float

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class PromotionGate:
    """Held-out loss must fall by `min_gain` (a fraction); sanity loss may rise by `tolerance`."""

    min_gain: float = 0.01
    sanity_tolerance: float = 0.02

    def refusal(self, metrics: TrainingMetrics) -> str | None:
        """Why the metrics do not earn a promotion, or None when they do."""
        before, after = metrics.heldout_loss_before, metrics.heldout_loss_after
        if not math.isfinite(after) or after > before * (1 - self.min_gain):  # NaN fails too
            return f"held-out loss {before:.4f} -> {after:.4f}: not {self.min_gain:.1%} better"
        sanity_before, sanity_after = metrics.sanity_loss_before, metrics.sanity_loss_after
        if not math.isfinite(sanity_after) or sanity_after > sanity_before * (
            1 + self.sanity_tolerance
        ):
            return (
                f"sanity loss {sanity_before:.4f} -> {sanity_after:.4f}: "
                f"regressed by more than {self.sanity_tolerance:.1%}"
            )
        return None


class ModelRegistry(CopiedFast, Aggregate):
    @event("Created")
    def __init__(self, id: UUID) -> None:  # noqa: A002
        # The base version's files are wherever the installation keeps its model ("" here).
        self.versions: dict[str, dict[str, Any]] = {
            BASE_VERSION: {"path": "", "status": "promoted"}
        }
        self.serving = BASE_VERSION

    @classmethod
    def start(cls) -> ModelRegistry:
        return cls(id=REGISTRY_ID)

    @property
    def serving_path(self) -> str:
        return str(self.versions[self.serving]["path"])

    def record_training(
        self,
        version: str,
        base_version: str,
        path: str,
        dataset: dict[str, Any],
        metrics: TrainingMetrics,
        config: dict[str, Any],
    ) -> None:
        if version in self.versions:
            raise ModelVersionExists(f"Model version {version} is already recorded.")
        if base_version not in self.versions:
            raise ModelVersionNotFound(f"No model version {base_version} to train from.")
        self._trained(version, base_version, path, dataset, metrics.as_dict(), config)

    def consider(self, version: str, gate: PromotionGate) -> bool:
        """Promote a trained version if the gate lets it through; record the refusal if not."""
        found = self.versions.get(version)
        if found is None:
            raise ModelVersionNotFound(f"No model version {version}.")
        if found["status"] != "trained":
            raise PromotionAlreadyDecided(f"Model version {version} is already {found['status']}.")
        reason = gate.refusal(TrainingMetrics(**found["metrics"]))
        if reason is None:
            self._promoted(version, self.serving, found["path"])
            return True
        self._refused(version, reason)
        return False

    @event("ModelTrained")
    def _trained(
        self,
        version: str,
        base_version: str,
        path: str,
        dataset: dict[str, Any],
        metrics: dict[str, float],
        config: dict[str, Any],
    ) -> None:
        self.versions[version] = {
            "path": path,
            "status": "trained",
            "base_version": base_version,
            "dataset": dataset,
            "metrics": dict(metrics),
            "config": dict(config),
        }

    @event("ModelPromoted")
    def _promoted(self, version: str, previous: str, path: str) -> None:
        self.versions[version]["status"] = "promoted"
        self.serving = version

    @event("PromotionRefused")
    def _refused(self, version: str, reason: str) -> None:
        self.versions[version]["status"] = "refused"
        self.versions[version]["reason"] = reason
