"""CodeFormer split in two: everything that does not depend on the fidelity weight, and the rest.

The encoder, the transformer's code lookup and the generator blocks before the first fusion
do not depend on ``weight`` (w = 1 - creativity). ``encode`` runs them once per face;
``decode`` runs the fused generator for any weight. ``decode(encode(x), w)`` performs the
same operations in the same order as spandrel's ``CodeFormer.forward(x, weight=w)``, so the
pixels are identical (a test checks it).
"""

from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass

import torch
import torch.nn.functional as F  # noqa: N812  (torch's own convention)
from spandrel_extra_arches.architectures.CodeFormer import CodeFormer
from spandrel_extra_arches.architectures.CodeFormer.__arch.codeformer import adaptive_instance_normalization


@dataclass(frozen=True, eq=False)
class CodeFormerFeatures:
    """Weight-independent state of a batch of faces (on the model's device)."""

    skips: dict[str, torch.Tensor]  # encoder features fused into the generator, by size
    generator_input: torch.Tensor  # generator activations just before the first fusion
    first_block: int  # index of the generator block that comes next

    def __len__(self) -> int:
        return int(self.generator_input.shape[0])

    def split(self) -> list[CodeFormerFeatures]:
        """One entry per face, so faces can be cached and re-batched independently."""
        return [
            CodeFormerFeatures(
                {k: v[i : i + 1] for k, v in self.skips.items()}, self.generator_input[i : i + 1], self.first_block
            )
            for i in range(len(self))
        ]

    @staticmethod
    def stack(items: list[CodeFormerFeatures]) -> CodeFormerFeatures:
        first = items[0]
        return CodeFormerFeatures(
            {k: torch.cat([f.skips[k] for f in items]) for k in first.skips},
            torch.cat([f.generator_input for f in items]),
            first.first_block,
        )

    def to(self, dtype: torch.dtype) -> CodeFormerFeatures:
        if self.generator_input.dtype == dtype:
            return self
        return CodeFormerFeatures(
            {k: v.to(dtype) for k, v in self.skips.items()}, self.generator_input.to(dtype), self.first_block
        )

    def to_tensors(self) -> tuple[torch.Tensor, ...]:
        """Flat, for graphs exported from ``encode`` and ``decode``: the generator input, then
        the skips from the smallest to the largest."""
        return (self.generator_input, *(self.skips[k] for k in sorted(self.skips, key=int)))

    @staticmethod
    def from_tensors(model: CodeFormer, tensors: tuple[torch.Tensor, ...]) -> CodeFormerFeatures:
        sizes = sorted(model.connect_list, key=int)
        return CodeFormerFeatures(dict(zip(sizes, tensors[1:], strict=True)), tensors[0], _first_fuse(model))

    def nbytes(self) -> int:
        tensors = [*self.skips.values(), self.generator_input]
        return sum(t.numel() * t.element_size() for t in tensors)


def codebook_lookup(quantize: torch.nn.Module, indices: torch.Tensor, shape: list[int]) -> torch.Tensor:
    """The codebook rows at ``indices`` as a B x C x H x W map (``shape`` is B, H, W, C).

    The values of spandrel's ``get_codebook_feat`` (a one-hot float32 product selects rows
    exactly), in the codebook's own dtype: that product fails on a bf16 codebook.
    """
    b, h, w, c = shape
    embedding: torch.nn.Embedding = quantize.embedding  # type: ignore[assignment]  # spandrel's VectorQuantizer
    return embedding(indices.reshape(-1)).view(b, h, w, c).permute(0, 3, 1, 2).contiguous()


def use_codebook_lookup(model: CodeFormer) -> None:
    """Make the model's own ``forward`` use ``codebook_lookup`` too, so it runs in bf16 as well."""
    model.quantize.get_codebook_feat = functools.partial(codebook_lookup, model.quantize)


def _fuse_points(model: CodeFormer) -> list[int]:
    return sorted(model.fuse_generator_block[size] for size in model.connect_list)


def _first_fuse(model: CodeFormer) -> int:
    return _fuse_points(model)[0] if model.connect_list else len(model.generator.blocks)


def decoder_modules(model: CodeFormer) -> list[torch.nn.Module]:
    """The modules ``decode`` runs: the generator blocks after the first fusion, and the fusions."""
    return [*model.generator.blocks[_first_fuse(model) + 1 :], *model.fuse_convs_dict.values()]


#: Decoder modules that cast their inputs already.
_casting_inputs: weakref.WeakSet[torch.nn.Module] = weakref.WeakSet()


def _inputs_to_own_dtype(module: torch.nn.Module, args: tuple[object, ...]) -> tuple[object, ...]:
    dtype = next(module.parameters()).dtype
    return tuple(a.to(dtype) if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in args)


def run_decoder_in(model: CodeFormer, dtype: torch.dtype) -> None:
    """Everything in float32 except the decoder half, which runs in ``dtype``.

    The encoder, the transformer and the code lookup stay float32, so reduced precision never
    changes which codebook entries are picked: a bf16 encoder flips near-tied codes (measured on
    the random stand-in model: 20 dB PSNR against float32, 42 dB with this split). The decoder,
    70% of the FLOPs and all of a creativity change, runs in ``dtype``; its modules cast their
    inputs to their own dtype, so ``model.forward`` works as well (and after ``model.float()``).
    """
    model.float()  # the encoder half back to float32, whatever a restorer sharing this model did
    for module in decoder_modules(model):
        module.to(dtype)
        if module not in _casting_inputs:  # the loader shares one model between restorers
            module.register_forward_pre_hook(_inputs_to_own_dtype)
            _casting_inputs.add(module)


def encode(model: CodeFormer, x: torch.Tensor) -> CodeFormerFeatures:
    """Encoder, code prediction and the unfused generator head for ``x`` in [-1, 1]."""
    skips: dict[str, torch.Tensor] = {}
    taps = [model.fuse_encoder_block[size] for size in model.connect_list]
    for i, block in enumerate(model.encoder.blocks):
        x = block(x)
        if i in taps:
            skips[str(x.shape[-1])] = x.clone()
    lq_feat = x

    pos_emb = model.position_emb.unsqueeze(1).repeat(1, x.shape[0], 1)
    query_emb = model.feat_emb(lq_feat.flatten(2).permute(2, 0, 1))
    for layer in model.ft_layers:
        query_emb = layer(query_emb, query_pos=pos_emb)
    logits = model.idx_pred_layer(query_emb).permute(1, 0, 2)

    soft_one_hot = F.softmax(logits, dim=2)
    _, top_idx = torch.topk(soft_one_hot, 1, dim=2)
    quant_feat = codebook_lookup(model.quantize, top_idx, [x.shape[0], 16, 16, 256])
    x = adaptive_instance_normalization(quant_feat.detach(), lq_feat)

    first_fuse = _first_fuse(model)
    for block in model.generator.blocks[: first_fuse + 1]:
        x = block(x)
    return CodeFormerFeatures(skips, x, first_fuse)


def decode(model: CodeFormer, features: CodeFormerFeatures, weight: float | torch.Tensor) -> torch.Tensor:
    """The generator from the first fusion on, for fidelity ``weight``; output in [-1, 1].

    A tensor ``weight`` (an exported graph's input) always runs the fusions: at w = 0 they add
    exactly 0, the pixels of skipping them."""
    fuse_points = set(_fuse_points(model))
    x = features.generator_input
    for i in range(features.first_block, len(model.generator.blocks)):
        if i > features.first_block:
            x = model.generator.blocks[i](x)
        if i in fuse_points and (isinstance(weight, torch.Tensor) or weight > 0):
            size = str(x.shape[-1])
            x = model.fuse_convs_dict[size](features.skips[size].detach(), x, weight)
    return x
