"""The fine-tuning loop: LoRA adapters (peft) over the serving model, checkpoints, resume.

A checkpoint is the adapter, the optimizer and the step, written to a staging folder and
renamed into place, so an interrupted run (Ctrl-C, a killed process) resumes from the last
whole checkpoint. Which examples a step sees depends only on the step (data.batch_for_step),
and LoRA dropout is off, so a resumed run takes the same steps as an uninterrupted one.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig, PeftModel, get_peft_model, set_peft_model_state_dict
from peft.utils import get_peft_model_state_dict
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from workers.training.data import Encoded, batch_for_step, collate, in_batches

log = logging.getLogger("confab.trainer")

TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 60
    batch_size: int = 4
    lr: float = 2e-4
    lora_rank: int = 8
    lora_alpha: int = 16
    max_len: int = 512
    warmup_steps: int = 5
    checkpoint_every: int = 20
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def with_lora(model: Any, config: TrainConfig) -> PeftModel:
    lora = LoraConfig(
        r=config.lora_rank,
        lora_alpha=config.lora_alpha,
        lora_dropout=0.0,
        target_modules=TARGET_MODULES,
        task_type="CAUSAL_LM",
    )
    torch.manual_seed(config.seed)  # the adapters' initial values
    return get_peft_model(model, lora)


@torch.no_grad()
def mean_loss(model: Any, examples: list[Encoded], pad_id: int, batch_size: int = 8) -> float:
    """Mean loss per learned token (nats) over the examples."""
    model.eval()
    total, tokens = 0.0, 0
    device = next(model.parameters()).device
    by_length = sorted(examples, key=lambda e: len(e.input_ids))  # less padding per batch
    for batch in in_batches(by_length, batch_size):
        inputs = {k: v.to(device) for k, v in collate(batch, pad_id).items()}
        logits = model(
            input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]
        ).logits
        summed, counted = _token_loss(logits, inputs["labels"])
        total, tokens = total + float(summed), tokens + counted
    return total / max(tokens, 1)


def train(
    model: PeftModel,
    examples: list[Encoded],
    config: TrainConfig,
    run_dir: Path,
    pad_id: int,
    *,
    progress: bool = True,
) -> list[float]:
    """Run the steps not yet taken (resuming from run_dir/checkpoint); the losses of this call."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.0)
    start = _resume(model, optimizer, run_dir / "checkpoint")
    if start:
        log.info("resuming from step %d of %d", start, config.steps)
    device = next(model.parameters()).device
    losses = []
    model.train()
    bar = tqdm(
        range(start, config.steps),
        initial=start,
        total=config.steps,
        desc="training",
        disable=not progress,
    )
    for step in bar:
        batch = collate(batch_for_step(examples, config.batch_size, step, config.seed), pad_id)
        inputs = {k: v.to(device) for k, v in batch.items()}
        logits = model(
            input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]
        ).logits
        summed, counted = _token_loss(logits, inputs["labels"])
        loss = summed / max(counted, 1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        for group in optimizer.param_groups:  # linear warm-up, then constant
            group["lr"] = config.lr * min(1.0, (step + 1) / max(1, config.warmup_steps))
        optimizer.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.3f}")
        done = step + 1
        if done % config.checkpoint_every == 0 or done == config.steps:
            _checkpoint(model, optimizer, run_dir / "checkpoint", done, config)
    bar.close()
    return losses


def _token_loss(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Summed next-token loss over the labelled positions, and how many there were."""
    shifted_logits = logits[:, :-1].float().reshape(-1, logits.shape[-1])
    shifted_labels = labels[:, 1:].reshape(-1)
    summed = torch.nn.functional.cross_entropy(
        shifted_logits, shifted_labels, ignore_index=-100, reduction="sum"
    )
    counted = int((shifted_labels != -100).sum())
    if not math.isfinite(float(summed.detach())):
        log.warning("the loss is not finite")
    return summed, counted


def _checkpoint(
    model: PeftModel, optimizer: torch.optim.Optimizer, target: Path, step: int, config: TrainConfig
) -> None:
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    save_file(get_peft_model_state_dict(model), staging / "adapter.safetensors")
    torch.save(optimizer.state_dict(), staging / "optimizer.pt")
    (staging / "state.json").write_text(json.dumps({"step": step, "config": config.as_dict()}))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def _resume(model: PeftModel, optimizer: torch.optim.Optimizer, source: Path) -> int:
    if not (source / "state.json").exists():
        return 0
    set_peft_model_state_dict(model, load_file(source / "adapter.safetensors"))
    optimizer.load_state_dict(torch.load(source / "optimizer.pt", weights_only=True))
    return int(json.loads((source / "state.json").read_text())["step"])
