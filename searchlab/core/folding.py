"""Fold batch norm into the layer before it, to fill a weight-free inference graph from torch.

Example:
    >>> import torch
    >>> from searchlab.core.folding import fold_conv_bn
    >>> conv, bn = torch.nn.Conv2d(2, 4, 3, bias=False), torch.nn.BatchNorm2d(4).eval()
    >>> w, b = fold_conv_bn(conv, bn)
    >>> w.shape, b.shape
    ((4, 2, 3, 3), (4,))
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


@torch.no_grad()
def fold_bn(bn: nn.BatchNorm2d) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (scale, shift) of a batch norm in inference mode."""
    scale = bn.running_var.add(bn.eps).rsqrt()
    if bn.weight is not None:
        scale = scale * bn.weight
    shift = -bn.running_mean * scale
    if bn.bias is not None:
        shift = shift + bn.bias
    return scale.float().numpy(), shift.float().numpy()


@torch.no_grad()
def fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> tuple[np.ndarray, np.ndarray]:
    """Weight and bias of one convolution equal to ``bn(conv(x))`` in inference mode."""
    scale, shift = fold_bn(bn)
    weight = conv.weight.float().numpy() * scale.reshape(-1, 1, 1, 1)
    bias = shift
    if conv.bias is not None:
        bias = bias + conv.bias.float().numpy() * scale
    return weight.astype(np.float32), bias.astype(np.float32)
