"""The global context block of GCNet over space and time.

Paper: Y. Cao et al., "GCNet: Non-local Networks Meet Squeeze-Excitation
Networks and Beyond", arXiv:1904.11492. mmcv's ``ContextBlock`` is written
for 2D maps ``(B, C, H, W)`` (``Conv2d`` layers, ``x.size()`` unpacked into
four values), so it cannot follow a 3D residual block. Every layer in it is
either a 1x1 convolution (position-wise) or a pooling over *all* positions,
so the block on a video ``(B, C, T, H, W)`` is exactly mmcv's block on the
same tensor viewed as ``(B, C, T * H, W)``; this module does that and no
more (it is mmcv's code, parameters and initialisation unchanged).
"""
from typing import Sequence

import torch
from mmcv.cnn import ContextBlock

from a2mm.registry import register_model

__all__ = ['ContextBlock3d']


@register_model
class ContextBlock3d(ContextBlock):
    """mmcv's ``ContextBlock`` (GCNet) on ``(B, C, T, H, W)`` features.

    Input and output ``(B, C, T, H, W)``: attention pooling over all
    ``T * H * W`` positions into one context vector ``(B, C)``, a bottleneck
    transform (``C -> int(C * ratio) -> C`` with LayerNorm and ReLU), added
    to (``'channel_add'``) or multiplying (``'channel_mul'``) every
    position. By default the last convolution of each transform starts at
    zero (mmcv's ``reset_parameters``), so the block starts as an identity.

    Args:
        in_channels (int): channels ``C`` of the input.
        ratio (float): bottleneck width over ``C`` (GCNet uses 1/16 and
            1/4).
        pooling_type (str): ``'att'`` (attention pooling) or ``'avg'``.
            Default: ``'att'``.
        fusion_types (Sequence[str]): ``'channel_add'`` and/or
            ``'channel_mul'``. Default: ``('channel_add', )``.
        zero_init (bool): start the last convolution of each transform at
            zero (mmcv's choice, for inserting into a pretrained network);
            False keeps PyTorch's default initialisation of that
            convolution, as for training from scratch. Default: True.
    """

    _abbr_ = 'context_block3d'

    def __init__(self,
                 in_channels: int,
                 ratio: float,
                 pooling_type: str = 'att',
                 fusion_types: Sequence[str] = ('channel_add', ),
                 zero_init: bool = True) -> None:
        if not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(
                f'in_channels must be a positive int, got {in_channels!r}')
        if not isinstance(ratio, (int, float)) or \
                int(in_channels * ratio) < 1:
            raise ValueError(
                f'ratio={ratio!r} leaves int({in_channels} * ratio) < 1 '
                'bottleneck channels; choose ratio >= 1 / in_channels')
        if pooling_type not in ('att', 'avg'):
            raise ValueError(f"pooling_type must be 'att' or 'avg', got "
                             f'{pooling_type!r}')
        fusion_types = tuple(fusion_types)
        wrong = [f for f in fusion_types
                 if f not in ('channel_add', 'channel_mul')]
        if wrong or not fusion_types:
            raise ValueError(
                f'fusion_types must be a non-empty subset of (channel_add, '
                f'channel_mul), got {fusion_types!r}')
        super().__init__(in_channels, ratio, pooling_type, fusion_types)
        self.zero_init = zero_init
        if not zero_init:
            for transform in (self.channel_add_conv, self.channel_mul_conv):
                if transform is not None:
                    transform[-1].reset_parameters()  # nn.Conv2d's default

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, T, H, W)`` -> ``(B, C, T, H, W)``."""
        if x.dim() != 5 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'ContextBlock3d({self.in_channels}) needs input (B, '
                f'{self.in_channels}, T, H, W), got {tuple(x.shape)}')
        b, c, t, h, w = x.shape
        out = super().forward(x.reshape(b, c, t * h, w))  # (B, C, T*H, W)
        return out.view(b, c, t, h, w)
