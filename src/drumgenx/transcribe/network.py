"""The transcriber's network in PyTorch, for training and export to numpy weights.

Only the trainer (:mod:`drumgenx.training.transcriber`) and the tests import this module;
stage 1 and ``drumgenx transcribe`` run the exported weights in numpy (:mod:`.model`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from drumgenx.transcribe.model import OUTPUTS, Layer, TranscriberModel

__all__ = ["NetworkSpec", "TranscriberNet", "export_model"]


@dataclass(frozen=True)
class NetworkSpec:
    """Sizes of the network (the shipped model's values are the defaults)."""

    n_filters: int
    """Input filters per channel (``features.n_filters()``)."""
    conv_channels: tuple[int, ...] = (12, 12, 24)
    """Channels of the 3x3 convolutions over time and frequency."""
    pool_after: tuple[int, ...] = (3, 3, 0)
    """Max-pool over frequency after each 3x3 convolution (0: none)."""
    temporal_channels: int = 96
    """Channels of the 1-D convolutions over time."""
    dilations: tuple[int, ...] = (1, 2, 4, 8)
    """One 3-tap 1-D convolution per entry, this many frames between taps."""
    dropout: float = 0.2


class TranscriberNet(nn.Module):
    """Conv2d/BatchNorm/ReLU blocks with frequency pooling, then dilated Conv1d blocks.

    Input ``(batch, 2, frames, filters)``; output logits ``(batch, frames, 6)``.
    """

    def __init__(self, spec: NetworkSpec) -> None:
        super().__init__()
        self.spec = spec
        blocks: list[nn.Module] = []
        in_c, width = 2, spec.n_filters
        for out_c, pool in zip(spec.conv_channels, spec.pool_after, strict=True):
            blocks += [nn.Conv2d(in_c, out_c, 3, padding=1), nn.BatchNorm2d(out_c), nn.ReLU()]
            if pool:
                blocks.append(nn.MaxPool2d((1, pool)))
                width //= pool
            in_c = out_c
        self.conv2d = nn.Sequential(*blocks)
        temporal: list[nn.Module] = [nn.Dropout(spec.dropout)]
        in_f = in_c * width
        for d in spec.dilations:
            temporal += [
                nn.Conv1d(in_f, spec.temporal_channels, 3, padding=d, dilation=d),
                nn.BatchNorm1d(spec.temporal_channels),
                nn.ReLU(),
            ]
            in_f = spec.temporal_channels
        temporal += [nn.Dropout(spec.dropout), nn.Conv1d(in_f, len(OUTPUTS), 1)]
        self.temporal = nn.Sequential(*temporal)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv2d(x)  # b, c, t, f
        b, c, t, f = h.shape
        h = h.permute(0, 1, 3, 2).reshape(b, c * f, t)
        return self.temporal(h).transpose(1, 2)


def _fold(conv: nn.Module, bn: nn.Module | None) -> tuple[np.ndarray, np.ndarray]:
    """A convolution's weight and bias with the batch norm after it folded in."""
    w = conv.weight.detach().double()
    b = conv.bias.detach().double()
    if bn is not None:
        scale = bn.weight.detach().double() / torch.sqrt(bn.running_var.double() + bn.eps)
        w = w * scale.reshape(-1, *([1] * (w.dim() - 1)))
        b = (b - bn.running_mean.double()) * scale + bn.bias.detach().double()
    return w.float().numpy(), b.float().numpy()


def export_model(
    net: TranscriberNet,
    *,
    mean: np.ndarray,
    std: np.ndarray,
    thresholds: tuple[float, ...] = (0.5,) * len(OUTPUTS),
    time_offset_s: float = 0.0,
    meta: dict | None = None,
) -> TranscriberModel:
    """The numpy model equal to ``net`` in eval mode (batch norms folded, dropout gone)."""
    layers: list[Layer] = []
    modules = [*net.conv2d, *net.temporal]
    flattened = False
    for i, m in enumerate(modules):
        following = modules[i + 1] if i + 1 < len(modules) else None
        bn = following if isinstance(following, nn.BatchNorm2d | nn.BatchNorm1d) else None
        if isinstance(m, nn.Conv2d):
            w, b = _fold(m, bn)
            layers.append(Layer("conv2d", w, b))
        elif isinstance(m, nn.MaxPool2d):
            layers.append(Layer("pool", size=int(m.kernel_size[1])))
        elif isinstance(m, nn.Conv1d):
            if not flattened:
                layers.append(Layer("flatten"))
                flattened = True
            w, b = _fold(m, bn)
            layers.append(Layer("conv1d", w, b, dilation=int(m.dilation[0])))
    return TranscriberModel(
        layers=tuple(layers),
        mean=np.asarray(mean, dtype=np.float32),
        std=np.asarray(std, dtype=np.float32),
        thresholds=tuple(float(t) for t in thresholds),
        time_offset_s=float(time_offset_s),
        meta=dict(meta or {}),
    )
