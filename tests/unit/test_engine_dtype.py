"""The engine's dtype setting and when a runner keeps an fp32 copy of bf16 weights."""

from __future__ import annotations

import pytest
import torch

from workers.engine.generator import engine_dtype
from workers.engine.runner import wants_wide_copy


def test_the_dtype_setting_names_auto_float32_or_bfloat16() -> None:
    assert engine_dtype("auto") is None
    assert engine_dtype("float32") is torch.float32
    assert engine_dtype("bfloat16") is torch.bfloat16
    with pytest.raises(ValueError, match="float32"):
        engine_dtype("fp8")


def test_only_a_bf16_model_on_a_cpu_without_bf16_keeps_an_fp32_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cpu, gpu = torch.device("cpu"), torch.device("cuda")
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    assert wants_wide_copy(torch.bfloat16, cpu)
    assert not wants_wide_copy(torch.float32, cpu)
    assert not wants_wide_copy(torch.bfloat16, gpu)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True)
    assert not wants_wide_copy(torch.bfloat16, cpu)
