"""The engine's dtype setting and when a runner keeps an fp32 copy of bf16 weights."""

from __future__ import annotations

import pytest
import torch

from workers.engine.generator import INT8_WEIGHTS, engine_dtype
from workers.engine.runner import Int8Weight, _linear, wants_wide_copy


def test_the_dtype_setting_names_auto_float32_bfloat16_or_int8() -> None:
    assert engine_dtype("auto") is None
    assert engine_dtype("float32") is torch.float32
    assert engine_dtype("bfloat16") is torch.bfloat16
    assert engine_dtype("int8") is INT8_WEIGHTS
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


def test_int8_weights_keep_each_weight_within_one_step_of_its_row_scale() -> None:
    torch.manual_seed(0)
    weight = (torch.randn(64, 96) * torch.linspace(0.01, 3.0, 64)[:, None]).to(torch.bfloat16)
    packed = Int8Weight.of(weight)
    assert packed.q.dtype == torch.int8 and packed.scales.dtype == torch.bfloat16
    assert packed.q.abs().max() == 127  # each row's largest weight uses the whole range
    restored = packed.q.float() * packed.scales.float()[:, None]
    # half a step from rounding, up to 127 * 2**-9 steps more from the scale's bf16 rounding
    step = packed.scales.float()[:, None]
    assert ((restored - weight.float()).abs() <= 0.76 * step).all()
    x = torch.randn(3, 96).to(torch.bfloat16)
    exact = x.float() @ weight.float().T
    got = _linear(x, packed).float()
    assert got.shape == (3, 64)
    assert ((got - exact).abs() / exact.abs().amax(dim=1, keepdim=True)).max() < 0.03
