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
output (found by a dry run on the ``meta`` device) and runs on that output
through a forward hook (:mod:`a2mm.models.backbones.insertion`).
"""
from typing import Dict, Optional, Sequence, Union

from mmaction.registry import MODELS

from a2mm.registry import register_model
from .insertion import InsertedBackbone

__all__ = ['BlockInserted']


@register_model
class BlockInserted(InsertedBackbone):
    """Any registered backbone with a registered block after named
    sub-modules.

    Input and output: those of the wrapped backbone.

    Args:
        backbone (dict): config of the backbone to wrap.
        block (dict): config of the block, without ``in_channels`` (found
            by the dry run), e.g. ``dict(type='ContextBlock3d', ratio=0.25)``.
        positions (list[str], optional): names of sub-modules (as in
            ``named_modules()``, e.g. ``'layer2.1'``) after which a block
            runs; a wrong name raises
            :class:`~a2mm.models.backbones.insertion.UnknownPositionError`
            listing valid ones.
        stages (dict | str, optional): instead of ``positions``, by stage
            (see :class:`~a2mm.models.backbones.A2Inserted`).
        layout (str | dict, optional): as for ``A2Inserted``.
        num_segments (int, optional): as for ``A2Inserted``.
        dry_run_shape (Sequence[int], optional): input shape of the dry run.
            Default: guessed from the backbone's first convolution.
        init_cfg (dict, optional): MMEngine init config of the wrapper.

    The wrapped backbone's own initialisation (``init_weights``) does not
    reach the blocks, which keep the initialisation of their constructor
    (for mmcv's context block: the last convolution zeroed, an identity).
    """

    def __init__(self,
                 backbone: Dict,
                 block: Dict,
                 positions: Optional[Sequence[str]] = None,
                 stages: Optional[Union[str, Dict]] = None,
                 layout: Optional[Union[str, Dict]] = None,
                 num_segments: Optional[int] = None,
                 dry_run_shape: Optional[Sequence[int]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        if not isinstance(block, dict) or 'type' not in block:
            raise ValueError(f"block must be a config dict with a 'type', "
                             f'got {block!r}')
        if 'in_channels' in block:
            raise ValueError('block must not set in_channels: it is found by '
                             f'the dry run (got block={block!r})')
        super().__init__(backbone, positions, stages, init_cfg=init_cfg)
        # the hook only calls the module it holds; any block works
        self.blocks = self.insert_blocks(
            lambda channels: MODELS.build(dict(block, in_channels=channels)),
            dry_run_shape, layout, num_segments)
