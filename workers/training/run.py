"""`confab train`: one training run from a dataset to a recorded, gated model version.

Trains from the version serving now; measures held-out loss and the sanity set's loss before
and after; writes the merged weights under the data directory; records ModelTrained with the
metrics, then lets the promotion gate decide (ModelPromoted or PromotionRefused). A refused
version's merged weights are removed (its adapter stays in the run's checkpoint).
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from commands import models
from commands.app import ConfabStore
from domain.errors import DomainError
from domain.model_version import ModelVersionExists, PromotionGate, TrainingMetrics
from projections.dataset_files import manifest_sha256, read_manifest, read_rows
from workers.training.data import encode_rows
from workers.training.loop import TrainConfig, mean_loss, train, with_lora
from workers.training.sanity import sanity_messages

DIVERGED = 1e9


class DatasetUnusable(DomainError):
    code = "dataset_unusable"


@dataclass(frozen=True)
class TrainingOutcome:
    version: str
    promoted: bool
    metrics: TrainingMetrics
    reason: str | None
    losses: list[float]


def version_for(base_version: str, manifest_sha: str, config: TrainConfig) -> str:
    """The same base, dataset and settings name the same version (a rerun resumes it)."""
    key = json.dumps([base_version, manifest_sha, config.as_dict()], sort_keys=True)
    return "ft-" + hashlib.sha256(key.encode()).hexdigest()[:12]


def run_training(
    store: ConfabStore,
    data_dir: Path,
    base_model_path: Path,
    dataset_dir: Path,
    config: TrainConfig,
    gate: PromotionGate,
    *,
    progress: bool = True,
) -> TrainingOutcome:
    base_version, base_relative = models.serving_model(store)
    model_path = data_dir / base_relative if base_relative else base_model_path
    manifest, manifest_sha = read_manifest(dataset_dir), manifest_sha256(dataset_dir)
    version = version_for(base_version, manifest_sha, config)
    if version in models.registry(store).versions:
        raise ModelVersionExists(f"Model version {version} was already trained from this dataset.")
    rows = read_rows(dataset_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    train_set = encode_rows(tokenizer, [r for r in rows if r["split"] == "train"], config.max_len)
    heldout = encode_rows(tokenizer, [r for r in rows if r["split"] == "heldout"], config.max_len)
    sanity = encode_rows(tokenizer, [{"messages": m} for m in sanity_messages()], config.max_len)
    if not train_set or not heldout:
        raise DatasetUnusable(
            f"The dataset has {len(train_set)} training and {len(heldout)} held-out examples; "
            "both are needed (build it from more conversations, or raise --heldout-percent)."
        )
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model: Any = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    model = model.to(device)
    heldout_before, sanity_before = (
        mean_loss(model, heldout, pad_id),
        mean_loss(model, sanity, pad_id),
    )
    tuned = with_lora(model, config)
    losses = train(
        tuned, train_set, config, data_dir / "training" / version, pad_id, progress=progress
    )
    metrics = TrainingMetrics(
        heldout_loss_before=_finite(heldout_before),
        heldout_loss_after=_finite(mean_loss(tuned, heldout, pad_id)),
        sanity_loss_before=_finite(sanity_before),
        sanity_loss_after=_finite(mean_loss(tuned, sanity, pad_id)),
    )
    relative = f"models/trained/{version}"
    _save_merged(tuned, tokenizer, data_dir / relative)
    dataset = {
        "path": str(dataset_dir),
        "manifest_sha256": manifest_sha,
        "positions": manifest["positions"],
        "train_examples": len(train_set),
        "heldout_examples": len(heldout),
    }
    models.record_training(
        store,
        version,
        base_version,
        relative,
        dataset,
        metrics,
        {**config.as_dict(), "device": device},
    )
    promoted = models.consider_promotion(store, version, gate)
    if not promoted:
        shutil.rmtree(data_dir / relative, ignore_errors=True)
    reason = None if promoted else models.registry(store).versions[version].get("reason")
    return TrainingOutcome(version, promoted, metrics, reason, losses)


def _finite(loss: float) -> float:
    """A blown-up run's loss as a large number: events are JSON, which has no NaN or infinity."""
    return loss if math.isfinite(loss) else DIVERGED


def _save_merged(tuned: Any, tokenizer: Any, target: Path) -> None:
    """The adapters folded into the weights: a plain model any worker loads as it is."""
    merged = tuned.merge_and_unload()
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    merged.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
