"""The model runner: one forward pass of a Llama-architecture model over a mixed batch.

In the style of gpt-fast: the weights are taken out of the transformers model and the forward
is written out in plain torch, so a step is ~15 ops a layer and no framework machinery (cache
objects, mask builders, hooks). One step carries every running sequence's next token (decode
rows) and any number of prompt chunks (prefill rows) through the same matmuls, so the weights
are read from memory once a step however many sequences share it; only attention is split,
because each sequence sees its own slot of the KV cache.

The arithmetic follows transformers' LlamaForCausalLM op for op (RMSNorm in fp32, rotate-half
RoPE, sdpa with causal masking for a whole prompt), which is what keeps greedy output
token-identical to `generate`.

A bf16 model on a CPU without bf16 instructions (AVX2 only) is a trade: a step of one or two
rows is memory-bound and runs ~2x faster from half-size weights, but wide steps (many decode
rows, prompt chunks) are compute-bound and bf16 matmuls there run 1.5-3x slower than fp32.
So such a runner also keeps an fp32 copy of the bf16 weights (exactly the same values) and
computes steps wider than `narrow_rows` from it, rounding each result back to bf16 as a bf16
matmul does.

Weight-only int8 (`int8_narrow`): a decode step of a few rows reads every weight once and does
little arithmetic with it, so it is bound by memory bandwidth (270 MB of bf16 weights a step
for SmolLM2-135M). Narrow steps can read int8 copies instead (one scale per output row,
`torch.ops.aten._weight_int8pack_mm`, bf16 activations): half the bytes. Wide steps keep the
bf16 weights, where int8 unpacking costs more than it saves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from workers.engine.kv_cache import KVCache


@dataclass
class Chunk:
    """A run of one sequence's prompt tokens, to be written into its slot from `start` on."""

    slot: int
    start: int
    tokens: list[int]


@dataclass
class StepInput:
    """What one forward pass computes: one token for each decoding slot, then prompt chunks."""

    decode_slots: list[int] = field(default_factory=list)
    decode_tokens: list[int] = field(default_factory=list)
    decode_positions: list[int] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)


@dataclass(frozen=True)
class Int8Weight:
    """A weight matrix as int8 with one scale per output row (symmetric, round to nearest)."""

    q: torch.Tensor  # [out, in] int8
    scales: torch.Tensor  # [out], in the activations' dtype

    @classmethod
    def of(cls, weight: torch.Tensor) -> Int8Weight:
        w = weight.float()
        scales = w.abs().amax(dim=1).clamp(min=1e-12) / 127
        q = torch.round(w / scales[:, None]).clamp(-127, 127).to(torch.int8)
        return cls(q.contiguous(), scales.to(weight.dtype))


Weight = torch.Tensor | Int8Weight


@dataclass
class _Layer:
    attn_norm: torch.Tensor
    qkv: Weight  # q, k and v projections stacked: one matmul instead of three
    o: Weight
    mlp_norm: torch.Tensor
    gate_up: Weight  # gate and up stacked
    down: Weight

    def widened(self) -> _Layer:
        """The same weights in fp32 (exact copies of bf16 values), for compute-bound steps."""
        return self._mapped(lambda w: _tensor(w).float())

    def quantized(self) -> _Layer:
        """The weights as int8, for memory-bound steps."""
        return self._mapped(lambda w: Int8Weight.of(_tensor(w)))

    def _mapped(self, change: Any) -> _Layer:
        return _Layer(
            self.attn_norm,
            change(self.qkv),
            change(self.o),
            self.mlp_norm,
            change(self.gate_up),
            change(self.down),
        )

    @classmethod
    def of(cls, layer: Any) -> _Layer:
        # Stacking output rows leaves each output's dot product as it was (checked bit for bit
        # against separate matmuls, fp32 and bf16) and reads the weights in fewer, longer runs:
        # 10-20% faster a step on a 2-core CPU.
        attn, mlp = layer.self_attn, layer.mlp
        return cls(
            layer.input_layernorm.weight.detach(),
            torch.cat([attn.q_proj.weight, attn.k_proj.weight, attn.v_proj.weight]).detach(),
            attn.o_proj.weight.detach(),
            layer.post_attention_layernorm.weight.detach(),
            torch.cat([mlp.gate_proj.weight, mlp.up_proj.weight]).detach(),
            mlp.down_proj.weight.detach(),
        )


def wants_wide_copy(dtype: torch.dtype, device: torch.device) -> bool:
    """A bf16 model on a CPU without native bf16 dot products gains from fp32 wide steps."""
    if dtype != torch.bfloat16 or device.type != "cpu":
        return False
    return not torch.cpu._is_avx512_bf16_supported()


class Runner:
    narrow_rows = 4
    """Steps of up to this many rows use bf16 weights; wider ones the fp32 copy (measured on a
    2-core AVX2 EPYC: 1 row 25 vs 55 ms a step, 4 rows 70 vs 109, 8 rows 157 vs 113; a prompt
    of 512 tokens 6.6 s vs 1.0 s)."""

    def __init__(
        self,
        model: Any,
        slots: int,
        max_len: int,
        wide_copy: bool | None = None,
        int8_narrow: bool = False,
    ) -> None:
        cfg = model.config
        self.dtype: torch.dtype = model.dtype
        self.device = model.device
        self.heads = cfg.num_attention_heads
        self.kv_heads = cfg.num_key_value_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // self.heads
        self.eps = cfg.rms_norm_eps
        self.vocab = cfg.vocab_size
        inner = model.model
        self.embed = inner.embed_tokens.weight.detach()
        self.norm = inner.norm.weight.detach()
        self.lm_head = model.lm_head.weight.detach()
        self.layers = [_Layer.of(layer) for layer in inner.layers]
        if wide_copy is None:
            wide_copy = wants_wide_copy(self.dtype, torch.device(self.device))
        self.wide_layers = [layer.widened() for layer in self.layers] if wide_copy else None
        self.wide_lm_head = self.lm_head.float() if wide_copy else None
        self.int8_layers = [layer.quantized() for layer in self.layers] if int8_narrow else None
        self.int8_lm_head = Int8Weight.of(self.lm_head) if int8_narrow else None
        self.cos, self.sin = _rope_table(inner.rotary_emb, max_len, self.dtype, self.device)
        self.cache = KVCache(
            len(self.layers), slots, self.kv_heads, max_len, self.head_dim, self.dtype, self.device
        )

    def _rms_norm(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return weight * h.to(self.dtype)

    @torch.inference_mode()
    def forward(self, step: StepInput) -> torch.Tensor:
        """Logits [rows, vocab] in fp32: one per decode slot, then one per chunk (its last)."""
        tokens = list(step.decode_tokens)
        positions = list(step.decode_positions)
        for chunk in step.chunks:
            tokens += chunk.tokens
            positions += range(chunk.start, chunk.start + len(chunk.tokens))
        dev = self.device
        pos = torch.tensor(positions, device=dev)
        x = F.embedding(torch.tensor(tokens, device=dev), self.embed)
        cos, sin = self.cos[pos].unsqueeze(1), self.sin[pos].unsqueeze(1)
        decode = _DecodePlan.build(step, dev) if step.decode_slots else None
        n, hd = len(tokens), self.head_dim
        split = (self.heads * hd, self.kv_heads * hd, self.kv_heads * hd)
        layers = self.layers
        if n <= self.narrow_rows and self.int8_layers:
            layers = self.int8_layers
        elif n > self.narrow_rows and self.wide_layers:
            layers = self.wide_layers
        for i, layer in enumerate(layers):
            h = self._rms_norm(x, layer.attn_norm)
            q, k, v = _linear(h, layer.qkv).split(split, dim=-1)
            q = _rope(q.view(n, self.heads, hd), cos, sin)
            k = _rope(k.view(n, self.kv_heads, hd), cos, sin)
            v = v.view(n, self.kv_heads, hd)
            x = x + _linear(self._attend(i, q, k, v, step, decode), layer.o)
            h = self._rms_norm(x, layer.mlp_norm)
            gate, up = _linear(h, layer.gate_up).chunk(2, dim=-1)
            x = x + _linear(F.silu(gate) * up, layer.down)
        # Only the last token of each chunk needs logits: the lm_head is the biggest matmul.
        rows, end = list(range(len(step.decode_tokens))), len(step.decode_tokens)
        for chunk in step.chunks:
            end += len(chunk.tokens)
            rows.append(end - 1)
        picked = self._rms_norm(x[rows] if len(rows) < n else x, self.norm)
        if self.wide_lm_head is not None and len(rows) > self.narrow_rows:
            return _linear(picked, self.wide_lm_head).float()
        if self.int8_lm_head is not None and len(rows) <= self.narrow_rows:
            return _linear(picked, self.int8_lm_head).float()
        return F.linear(picked, self.lm_head).float()

    def _attend(
        self,
        layer: int,
        q: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
        step: StepInput,
        decode: _DecodePlan | None,
    ) -> torch.Tensor:
        outs = []
        d = len(step.decode_tokens)
        group = self.heads // self.kv_heads
        if decode is not None:
            self.cache.write_tokens(layer, decode.slots, decode.positions, k[:d], v[:d])
            keys, values = self.cache.rows(layer, decode.rows, decode.length)
            # Grouped-query attention without copying K/V: the query heads that share a KV head
            # become that head's "query positions", one token each.
            qd = q[:d].view(d, self.kv_heads, group, self.head_dim)
            out = F.scaled_dot_product_attention(qd, keys, values, attn_mask=decode.mask)
            outs.append(out.reshape(d, -1))
        start = d
        for chunk in step.chunks:
            t = len(chunk.tokens)
            end = start + t
            self.cache.write_chunk(layer, chunk.slot, chunk.start, k[start:end], v[start:end])
            keys, values = self.cache.rows(layer, chunk.slot, chunk.start + t)
            # Prompts are few and short next to decode traffic: repeat K/V as transformers does,
            # so a whole prompt takes the same causal sdpa path as `generate`.
            keys = keys.repeat_interleave(group, dim=0).unsqueeze(0)
            values = values.repeat_interleave(group, dim=0).unsqueeze(0)
            qc = q[start:end].transpose(0, 1).unsqueeze(0)
            if chunk.start == 0:
                out = F.scaled_dot_product_attention(qc, keys, values, is_causal=True)
            else:
                mask = _chunk_mask(chunk.start, t, q.device)
                out = F.scaled_dot_product_attention(qc, keys, values, attn_mask=mask)
            outs.append(out[0].transpose(0, 1).reshape(t, -1))
            start = end
        return outs[0] if len(outs) == 1 else torch.cat(outs)


@dataclass
class _DecodePlan:
    """Index tensors and the padding mask for the decode rows, shared by every layer."""

    slots: torch.Tensor
    positions: torch.Tensor
    rows: torch.Tensor | slice
    length: int
    mask: torch.Tensor | None

    @classmethod
    def build(cls, step: StepInput, device: torch.device) -> _DecodePlan:
        slots = step.decode_slots
        positions = torch.tensor(step.decode_positions, device=device)
        length = max(step.decode_positions) + 1
        # Consecutive slots are read as a view; anything else needs a gather (a copy).
        lo = slots[0]
        consecutive = slots == list(range(lo, lo + len(slots)))
        slot_t = torch.tensor(slots, device=device)
        rows: torch.Tensor | slice = slice(lo, lo + len(slots)) if consecutive else slot_t
        if min(step.decode_positions) == length - 1:
            return cls(slot_t, positions, rows, length, None)  # no padding: every row sees all
        mask = torch.arange(length, device=device)[None, :] <= positions[:, None]
        return cls(slot_t, positions, rows, length, mask[:, None, None, :])


def _tensor(weight: Weight) -> torch.Tensor:
    assert isinstance(weight, torch.Tensor)
    return weight


def _linear(x: torch.Tensor, weight: Weight) -> torch.Tensor:
    """x @ weight.T in the weight's dtype, the result in x's (a no-op cast when they agree)."""
    if isinstance(weight, Int8Weight):
        return torch.ops.aten._weight_int8pack_mm(x.contiguous(), weight.q, weight.scales)
    if x.dtype == weight.dtype:
        return F.linear(x, weight)
    return F.linear(x.to(weight.dtype), weight).to(x.dtype)


def _chunk_mask(start: int, t: int, device: torch.device) -> torch.Tensor:
    """Causal mask for a chunk whose first token sits at `start`: it sees the cache before it."""
    query = torch.arange(start, start + t, device=device)[:, None]
    return torch.arange(start + t, device=device)[None, :] <= query


def _rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return (x * cos) + (rotated * sin)


def _rope_table(
    rotary: Any, max_len: int, dtype: torch.dtype, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin for every position, computed as transformers computes them (fp32, then cast)."""
    inv_freq = rotary.inv_freq.float().to(device)
    positions = torch.arange(max_len, device=device).float()
    freqs = inv_freq[None, :, None] @ positions[None, None, :]
    emb = torch.cat((freqs.transpose(1, 2), freqs.transpose(1, 2)), dim=-1)[0]
    scale = rotary.attention_scaling
    return (emb.cos() * scale).to(dtype), (emb.sin() * scale).to(dtype)
