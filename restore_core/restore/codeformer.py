"""CodeFormer split in two: everything that does not depend on the fidelity weight, and the rest.

The encoder, the transformer's code lookup and the generator blocks before the first fusion
do not depend on ``weight`` (w = 1 - creativity). ``encode`` runs them once per face;
``decode`` runs the fused generator for any weight. ``decode(encode(x), w)`` performs the
same operations in the same order as spandrel's ``CodeFormer.forward(x, weight=w)``, so the
pixels are identical (a test checks it).
"""

from __future__ import annotations

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

    def nbytes(self) -> int:
        tensors = [*self.skips.values(), self.generator_input]
        return sum(t.numel() * t.element_size() for t in tensors)


def _fuse_points(model: CodeFormer) -> list[int]:
    return sorted(model.fuse_generator_block[size] for size in model.connect_list)


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
    quant_feat = model.quantize.get_codebook_feat(top_idx, shape=[x.shape[0], 16, 16, 256])
    x = adaptive_instance_normalization(quant_feat.detach(), lq_feat)

    first_fuse = _fuse_points(model)[0] if model.connect_list else len(model.generator.blocks)
    for block in model.generator.blocks[: first_fuse + 1]:
        x = block(x)
    return CodeFormerFeatures(skips, x, first_fuse)


def decode(model: CodeFormer, features: CodeFormerFeatures, weight: float) -> torch.Tensor:
    """The generator from the first fusion on, for fidelity ``weight``; output in [-1, 1]."""
    fuse_points = set(_fuse_points(model))
    x = features.generator_input
    for i in range(features.first_block, len(model.generator.blocks)):
        if i > features.first_block:
            x = model.generator.blocks[i](x)
        if i in fuse_points and weight > 0:
            size = str(x.shape[-1])
            x = model.fuse_convs_dict[size](features.skips[size].detach(), x, weight)
    return x
