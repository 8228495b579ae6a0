"""Per-stage, per-block A² placement for ResNet-style backbones.

Shared by :class:`~a2mm.models.backbones.A2ResNet3d` and
:class:`~a2mm.models.backbones.A2ResNet`. The ``a2=`` argument mirrors
MMAction2's ``non_local=`` (``mmaction/models/backbones/resnet3d.py``): one
entry per stage, each an int (0/1 for every block of the stage) or a sequence
with one 0/1 flag per block, e.g. ``a2=((0, 0, 0), (0, 1, 0, 1),
(0, 1, 0, 1, 0, 1), (0, 0, 0))``. A placement can also be named (see
:data:`A2_PLACEMENTS`).

An A² block runs after a residual block's final ReLU (and after its non-local
block, if it has one), where ``Bottleneck3d`` applies ``non_local``. It is
stored as the residual block's ``a2_block`` child, so a checkpoint key reads
``layer3.1.a2_block.<param>``, next to the block's own weights.

MMAction2's ``ResNet3d`` (and ``ResNet``) initialise every convolution
(kaiming) and every BN (weight 1) of the network, the A² blocks' norm layers
included, which undoes their zero-init. :class:`A2ZeroInitMixin` re-applies
it (:meth:`~a2mm.models.blocks.A2Block.zero_init_last`, timm's convention)
once the parent's ``init_weights`` has run: the one place that does, for
:class:`~a2mm.models.backbones.A2ResNet3d`,
:class:`~a2mm.models.backbones.A2ResNet` and
:class:`~a2mm.models.backbones.A2Inserted`.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from a2mm.models.blocks import A2Block

__all__ = [
    'A2_PLACEMENTS', 'A2ResidualMixin', 'A2StagesMixin', 'A2ZeroInitMixin',
    'A2Flags', 'expand_a2_flags', 'add_a2_blocks', 'a2_blocks_of',
    'a2_arch_settings'
]

A2Flags = Union[str, int, Sequence[Union[int, Sequence[int]]]]

#: Named placements (for the ResNet-50 layout, blocks per stage (3, 4, 6, 3)).
#: ``'res34_5'``: 5 blocks, after blocks 1 and 3 of res3 and 1, 3, 5 of res4:
#: the places of MMAction2's non-local I3D-R50
#: (``non_local=((0,0,0),(0,1,0,1),(0,1,0,1,0,1),(0,0,0))``). The paper
#: confirms 5 A² blocks in its Kinetics ResNet-50 but not where; their places,
#: and the number and places in its ImageNet ResNet-50, are not confirmed.
#: Using the non-local places is our choice: it makes the A²-vs-non-local
#: comparison like for like.
A2_PLACEMENTS: Dict[str, Tuple[Tuple[int, ...], ...]] = {
    'res34_5': ((0, 0, 0), (0, 1, 0, 1), (0, 1, 0, 1, 0, 1), (0, 0, 0)),
}


class A2ResidualMixin:
    """Makes a residual block run its ``a2_block`` child (if any) on its
    output: ``y = a2_block(block(x))``, shapes unchanged ``(B, C, *spatial)``.

    Mix in before the residual block class, e.g.
    ``class A2Bottleneck3d(A2ResidualMixin, Bottleneck3d)``. The child is
    ``None`` until :func:`add_a2_blocks` sets it.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.a2_block: Optional[A2Block] = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x)
        if self.a2_block is not None:
            out = self.a2_block(out)
        return out


def expand_a2_flags(a2: A2Flags,
                    stage_blocks: Sequence[int]) -> List[Tuple[bool, ...]]:
    """Expand ``a2=`` into one tuple of booleans per stage, one per block.

    Args:
        a2: a name from :data:`A2_PLACEMENTS`, an int for every block, or one
            entry per stage (an int for the whole stage, or one 0/1 per
            block).
        stage_blocks: the number of residual blocks of each stage.

    Raises:
        ValueError: naming the stage, the expected and the given lengths.
    """
    if isinstance(a2, str):
        if a2 not in A2_PLACEMENTS:
            raise ValueError(f'unknown a2 placement {a2!r}; named placements:'
                             f' {sorted(A2_PLACEMENTS)}')
        a2 = A2_PLACEMENTS[a2]
    num_stages = len(stage_blocks)
    if isinstance(a2, int):
        a2 = (a2, ) * num_stages
    if len(a2) != num_stages:
        raise ValueError(f'a2 needs one entry per stage ({num_stages} stages '
                         f'with {tuple(stage_blocks)} blocks), got {len(a2)}:'
                         f' {a2!r}')
    flags = []
    for stage, (entry, blocks) in enumerate(zip(a2, stage_blocks)):
        entry = (entry, ) * blocks if isinstance(entry, int) else tuple(entry)
        if len(entry) != blocks:
            raise ValueError(
                f'a2 entry for stage {stage} (layer{stage + 1}) needs one '
                f'flag per block ({blocks} blocks), got {len(entry)}: '
                f'{entry!r}')
        bad = [f for f in entry if f not in (0, 1)]
        if bad:
            raise ValueError(f'a2 flags must be 0 or 1, got {bad!r} in stage '
                             f'{stage} (layer{stage + 1})')
        flags.append(tuple(bool(f) for f in entry))
    return flags


def add_a2_blocks(res_layers: Sequence[nn.Sequential],
                  channels: Sequence[int],
                  flags: Sequence[Sequence[bool]],
                  a2_cfg: Optional[Dict] = None) -> None:
    """Give each flagged residual block an ``a2_block`` child.

    Args:
        res_layers: the stages, each a sequence of residual blocks that mix
            in :class:`A2ResidualMixin`.
        channels: output channels of each stage (``C`` of its A² blocks).
        flags: from :func:`expand_a2_flags`.
        a2_cfg: keyword arguments for :class:`A2Block` besides
            ``in_channels`` (e.g. ``descriptor_channels``, ``norm_cfg``).
    """
    a2_cfg = {} if a2_cfg is None else dict(a2_cfg)
    if 'in_channels' in a2_cfg:
        raise ValueError('a2_cfg must not set in_channels: it is taken from '
                         f'the stage (got a2_cfg={a2_cfg!r})')
    for layer, stage_channels, stage_flags in zip(res_layers, channels, flags):
        for block, flag in zip(layer, stage_flags):
            if flag:
                block.a2_block = A2Block(stage_channels, **a2_cfg)


def a2_blocks_of(module: nn.Module) -> List[A2Block]:
    """All :class:`A2Block` modules inside ``module``, in definition order."""
    return [m for m in module.modules() if isinstance(m, A2Block)]


def a2_arch_settings(arch_settings: Dict[int, Tuple[type, Tuple[int, ...]]],
                     a2_variants: Dict[type, type]
                     ) -> Dict[int, Tuple[type, Tuple[int, ...]]]:
    """A parent backbone's ``arch_settings`` (depth -> (residual block class,
    blocks per stage)) with each block class replaced by its A² variant
    (``a2_variants``: class -> the class that mixes in
    :class:`A2ResidualMixin`)."""
    return {depth: (a2_variants[block], stage_blocks)
            for depth, (block, stage_blocks) in arch_settings.items()}


class A2ZeroInitMixin:
    """``init_weights``: the next class's ``init_weights`` (the backbone's),
    then each A² block of ``self.a2_blocks`` (a ``ModuleList`` or
    ``ModuleDict`` of the backbone's own blocks) back to identity when it
    has ``zero_init``.

    Mix in before the backbone class, e.g.
    ``class A2Inserted(A2ZeroInitMixin, InsertedBackbone)``;
    :class:`A2StagesMixin` derives from it. A subclass whose
    ``init_weights`` loads the A² blocks' weights from a checkpoint returns
    without calling it.
    """

    def init_weights(self, *args, **kwargs) -> None:
        super().init_weights(*args, **kwargs)
        for module in self.a2_blocks.modules():
            if isinstance(module, A2Block):
                module.zero_init_last()


class A2StagesMixin(A2ZeroInitMixin):
    """``a2=`` / ``a2_cfg=`` for a ResNet-style backbone (``stage_blocks``,
    ``res_layers``, ``block.expansion``, stage ``i`` with
    ``base_channels * 2**i`` planes), used by ``A2ResNet3d`` and
    ``A2ResNet``: the parent's ``__init__`` (every other argument), then the
    A² blocks; its ``init_weights`` (:class:`A2ZeroInitMixin`) puts the
    A² blocks back to identity after the parent's."""

    def __init__(self,
                 *args,
                 a2: A2Flags = 0,
                 a2_cfg: Optional[Dict] = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # MMAction2's 2D ResNet has no base_channels: its stage i has
        # 64 * 2**i planes (mmaction resnet.py).
        self._add_a2(a2, a2_cfg, getattr(self, 'base_channels', 64))

    def _add_a2(self, a2: A2Flags, a2_cfg: Optional[Dict],
                base_channels: int) -> None:
        self.a2_stages = expand_a2_flags(a2, self.stage_blocks)
        self.a2_cfg = a2_cfg
        layers = [getattr(self, name) for name in self.res_layers]
        channels = [
            self.block.expansion * base_channels * 2**i
            for i in range(len(layers))
        ]
        add_a2_blocks(layers, channels, self.a2_stages, a2_cfg)

    @property
    def a2_blocks(self) -> nn.ModuleList:
        """The A² blocks, in order (a view; they live in the res blocks)."""
        return nn.ModuleList(a2_blocks_of(self))
