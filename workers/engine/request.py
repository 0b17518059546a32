"""What a caller asks the engine for: one chat turn, its sampling settings, a cancel switch."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class ChatRequest:
    messages: list[dict[str, str]]
    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    cancelled: threading.Event = field(default_factory=threading.Event)
