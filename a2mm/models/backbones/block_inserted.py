"""Insert any residual-style block (a registered module that maps
``(B, C, *spatial)`` to the same shape) into any registered backbone.

:class:`~a2mm.models.backbones.A2Inserted` does this for A² blocks; this is
the same mechanism for the blocks that A² is compared with and that a
backbone cannot take by itself, e.g. GCNet's context block
(:class:`~a2mm.models.blocks.ContextBlock3d`) in MMAction2's ``ResNet3d``,
which only knows ``non_local=``::

    backbone=dict(
        type='BlockInserted',
        backbone=dict(type='ResNet3d', depth=18, pretrained=None),
        positions=['layer3.1'],
        block=dict(type='ContextBlock3d', ratio=1 / 4))

Each block is built with ``in_channels`` = the channels of its sub-module's
output (found by the dry run of ``A2Inserted``, on the ``meta`` device) and
runs on that output through a forward hook.
"""
from typing import Dict, List, Optional, Sequence

import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from a2mm.registry import register_model
from .a2_inserted import _ApplyA2, default_dry_run_shape, find_output_shapes

__all__ = ['BlockInserted']


@register_model
class BlockInserted(BaseModule):
    """Any registered backbone with a registered block after named
    sub-modules.

    Input and output: those of the wrapped backbone.

    Args:
        backbone (dict): config of the backbone to wrap.
        positions (list[str]): names of sub-modules (as in
            ``named_modules()``, e.g. ``'layer2.1'``) after which a block
            runs; a wrong name raises
            :class:`~a2mm.models.backbones.a2_inserted.UnknownPositionError`
            listing valid ones.
        block (dict): config of the block, without ``in_channels`` (found
            by the dry run), e.g. ``dict(type='ContextBlock3d', ratio=0.25)``.
        dry_run_shape (Sequence[int], optional): input shape of the dry run.
            Default: guessed from the backbone's first convolution.
        init_cfg (dict, optional): MMEngine init config of the wrapper.

    The wrapped backbone's own initialisation (``init_weights``) does not
    reach the blocks, which keep the initialisation of their constructor
    (for mmcv's context block: the last convolution zeroed, an identity).
    """

    def __init__(self,
                 backbone: Dict,
                 positions: Sequence[str],
                 block: Dict,
                 dry_run_shape: Optional[Sequence[int]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not isinstance(block, dict) or 'type' not in block:
            raise ValueError(f"block must be a config dict with a 'type', "
                             f'got {block!r}')
        if 'in_channels' in block:
            raise ValueError('block must not set in_channels: it is found by '
                             f'the dry run (got block={block!r})')
        self.backbone = MODELS.build(backbone)
        self.positions: List[str] = list(positions) \
            if not isinstance(positions, str) else positions
        shape = dry_run_shape or default_dry_run_shape(self.backbone)
        shapes = find_output_shapes(self.backbone, self.positions, shape)
        modules = dict(self.backbone.named_modules())
        self.blocks = nn.ModuleDict()
        for position in self.positions:
            key = position.replace('.', '-')
            self.blocks[key] = MODELS.build(
                dict(block, in_channels=shapes[position][1]))
            # the hook only calls the module it holds; any block works
            modules[position].register_forward_hook(_ApplyA2(
                self.blocks[key]))

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == 'backbone':
                raise
            return getattr(super().__getattr__('backbone'), name)

    def forward(self, *args, **kwargs):
        """The wrapped backbone's forward; the blocks run through hooks."""
        return self.backbone(*args, **kwargs)
