"""The KV cache: one static slot per running sequence, preallocated once.

A slot is a row of fixed length `max_len` in every layer's key and value tensors. Static slots
waste memory on short sequences but need no block tables, no allocation in the hot loop, and
let a decode step read a contiguous slice when the running slots are 0..n-1 (the scheduler
hands out the lowest free slot, so that is the common case).
"""

from __future__ import annotations

import torch


class KVCache:
    def __init__(
        self,
        layers: int,
        slots: int,
        kv_heads: int,
        max_len: int,
        head_dim: int,
        dtype: torch.dtype,
        device: str | torch.device = "cpu",
    ) -> None:
        shape = (layers, slots, kv_heads, max_len, head_dim)
        self.k = torch.zeros(shape, dtype=dtype, device=device)
        self.v = torch.zeros(shape, dtype=dtype, device=device)
        self.slots = slots
        self.max_len = max_len

    def write_tokens(
        self,
        layer: int,
        slots: torch.Tensor,
        positions: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
    ) -> None:
        """One new token per sequence: k and v are [B, kv_heads, head_dim]."""
        self.k[layer, slots, :, positions] = k
        self.v[layer, slots, :, positions] = v

    def write_chunk(
        self, layer: int, slot: int, start: int, k: torch.Tensor, v: torch.Tensor
    ) -> None:
        """A run of prompt tokens of one sequence: k and v are [T, kv_heads, head_dim]."""
        end = start + k.shape[0]
        self.k[layer, slot, :, start:end] = k.transpose(0, 1)
        self.v[layer, slot, :, start:end] = v.transpose(0, 1)

    def rows(
        self, layer: int, slots: torch.Tensor | slice | int, length: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values of some slots up to `length`: [B, kv_heads, length, head_dim]."""
        return self.k[layer, slots, :, :length], self.v[layer, slots, :, :length]
