"""Placement by stage: where A² blocks go in a backbone, named by stage and
block index instead of module paths, resolved per backbone family.

``stages=dict(res3=[1, 3], res4=[1, 3, 5])`` puts A² blocks after blocks 1
and 3 of ``res3`` and 1, 3, 5 of ``res4`` (0-based, ResNet's stage names:
``res2`` .. ``res5`` are MMAction2's ``layer1`` .. ``layer4``); a name from
:data:`PRESETS` (``'res34_5'``, the places of MMAction2's non-local
I3D-R50) or ``'default'`` (the family's default, :attr:`Family.default`)
stand for such a dict. Each family (:data:`FAMILIES`, keyed by MMAction2
backbone class, found through the class's MRO so subclasses follow) names
its stages, the module path of each block, and the layout of a block's
output (:mod:`~a2mm.models.backbones.layouts`):

- ResNet-style 3D (``ResNet3d``, ``ResNet3dSlowOnly``, ``ResNet3dCSN``,
  ``ResNet2Plus1d``, ``X3D``, ``OmniResNet``): ``resK`` -> ``layer{K-1}.i``.
- SlowFast: ``resK`` on both pathways, ``slow_resK`` / ``fast_resK`` on one.
- 2D ResNets (``ResNet``, ``ResNetTSM``, ``ResNetTIN``, ``TANet``), C2D
  and ``MobileNetV2TSM``: the stages as above, the ``'clip'`` layout
  (temporal: the block sees ``(N, C, T, H, W)``).
- C3D: ``conv1`` .. ``conv5``, index 0/1 for ``conv3a``/``conv3b``.
- Transformers: Swin ``stage1`` .. ``stage4`` (channels-last), UniFormer
  ``stage1`` .. ``stage4``, and one stage ``blocks`` for VideoMAE/V2's ViT,
  MViT, TimeSformer and UniFormerV2 (token layouts).
"""
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, \
    Union

import torch.nn as nn

__all__ = [
    'PRESETS', 'Family', 'FAMILIES', 'family_of', 'stage_blocks',
    'resolve_stages', 'family_layout'
]

Stages = Dict[str, Sequence[int]]

#: Named placements. ``'res34_5'``: 5 blocks, after blocks 1 and 3 of res3
#: and 1, 3, 5 of res4, where MMAction2's non-local I3D-R50 puts its
#: non-local blocks (``non_local=((0,0,0),(0,1,0,1),(0,1,0,1,0,1),
#: (0,0,0))``), as ``A2ResNet3d``'s ``a2='res34_5'``.
PRESETS: Dict[str, Stages] = {'res34_5': {'res3': (1, 3), 'res4': (1, 3, 5)}}


def _odd(count: int, most: int) -> List[int]:
    """Blocks 1, 3, 5, ... of a stage of ``count`` blocks, at most
    ``most`` (block 0 when the stage has one block)."""
    return list(range(1, count, 2))[:most] or [0]


def _res34(sizes: Dict[str, int]) -> Stages:
    """The res34_5 rule for any depth: odd blocks of res3 (2) and res4
    (3)."""
    return {'res3': _odd(sizes['res3'], 2), 'res4': _odd(sizes['res4'], 3)}


def _middle(stage: str) -> Callable[[Dict[str, int]], Stages]:
    """Two blocks of ``stage``: those ending its first half and its third
    quarter (one block when it has fewer than 4)."""

    def default(sizes: Dict[str, int]) -> Stages:
        count = sizes[stage]
        picks = sorted({max(count // 2 - 1, 0), max(count * 3 // 4 - 1, 0)})
        return {stage: picks}
    return default


class Family(NamedTuple):
    """How A² is placed in one backbone family.

    Attributes:
        name: the family's name in messages.
        stages: stage name -> module paths of the stage's containers (one
            per pathway); block ``i`` of the stage is ``f'{path}.{i}'`` in
            each; or stage name -> the explicit module names of its blocks
            (C3D), given as a tuple of names prefixed by ``'='``.
        layout: the layout of a block's output: a name from
            :data:`~a2mm.models.backbones.layouts.LAYOUTS`, or a function of
            the built backbone returning one (options read from it).
        default: stage sizes (blocks per stage) -> the default placement.
    """
    name: str
    stages: Dict[str, Sequence[str]]
    layout: Union[str, Callable[[nn.Module], Union[str, Dict]]]
    default: Callable[[Dict[str, int]], Stages]


def _res(prefix: str = '', stages: Sequence[int] = (2, 3, 4, 5)
         ) -> Dict[str, Sequence[str]]:
    return {f'res{k}': (f'{prefix}layer{k - 1}', ) for k in stages}


def _c3d_stage(k: int) -> Sequence[str]:
    return (f'=conv{k}a', ) if k < 3 else (f'=conv{k}a', f'=conv{k}b')


_SLOWFAST = dict(
    {f'res{k}': (f'slow_path.layer{k - 1}', f'fast_path.layer{k - 1}')
     for k in (2, 3, 4, 5)},
    **{f'slow_res{k}': (f'slow_path.layer{k - 1}', )
       for k in (2, 3, 4, 5)},
    **{f'fast_res{k}': (f'fast_path.layer{k - 1}', )
       for k in (2, 3, 4, 5)})

_RESNET3D = Family('ResNet-style 3D', _res(), 'channels', _res34)
_RESNET2D = Family('2D ResNet', _res(), 'clip', _res34)


def _timesformer_layout(backbone: nn.Module) -> Dict:
    # space-only attention keeps the T frames of a clip in the batch
    frames = backbone.num_frames \
        if backbone.attention_type == 'space_only' else 1
    return dict(type='tokens', cls_tokens=1, frames=frames)


def _uniformerv2_layout(backbone: nn.Module) -> Dict:
    # CLIP's (1 + H*W, N*T, C): sequence first, frames in the batch
    return dict(type='tokens', cls_tokens=1, seq_first=True,
                frames=backbone.transformer.T)


def _mvit_default(sizes: Dict[str, int]) -> Stages:
    return _middle('blocks')(sizes)


#: backbone class name -> family (found through the class's MRO)
FAMILIES: Dict[str, Family] = {
    'ResNet3d': _RESNET3D,
    'X3D': Family('X3D', _res(), 'channels', _res34),
    'OmniResNet': Family('OmniResNet', _res(), 'channels', _res34),
    'ResNet3dSlowFast': Family(
        'SlowFast', _SLOWFAST, 'channels', _res34),
    'ResNet': _RESNET2D,
    'C2D': Family('C2D', _res(), 'clip', _res34),
    'MobileNetV2TSM': Family(
        'MobileNetV2TSM', {f'layer{k}': (f'layer{k}', ) for k in range(1, 8)},
        'clip', lambda sizes: {'layer5': _odd(sizes['layer5'], 2)}),
    'C3D': Family('C3D', {f'conv{k}': _c3d_stage(k) for k in range(1, 6)},
                  'channels', lambda sizes: {'conv3': [1], 'conv4': [1]}),
    'SwinTransformer3D': Family(
        'Swin', {f'stage{k}': (f'layers.{k - 1}.blocks', )
                 for k in range(1, 5)}, 'channels_last', _middle('stage3')),
    'UniFormer': Family(
        'UniFormer', {f'stage{k}': (f'blocks{k}', ) for k in range(1, 5)},
        'channels', _middle('stage3')),
    'VisionTransformer': Family('ViT (VideoMAE)', {'blocks': ('blocks', )},
                                dict(type='tokens'), _middle('blocks')),
    'MViT': Family('MViT', {'blocks': ('blocks', )}, 'tokens_thw',
                   _mvit_default),
    'TimeSformer': Family(
        'TimeSformer', {'blocks': ('transformer_layers.layers', )},
        _timesformer_layout, _middle('blocks')),
    'UniFormerV2': Family(
        'UniFormerV2', {'blocks': ('transformer.resblocks', )},
        _uniformerv2_layout, _middle('blocks')),
}


def family_of(backbone: nn.Module) -> Optional[Family]:
    """The family of ``backbone`` (its class or the nearest base class in
    :data:`FAMILIES`), or None."""
    for cls in type(backbone).__mro__:
        if cls.__name__ in FAMILIES:
            return FAMILIES[cls.__name__]
    return None


def _stage_paths(backbone: nn.Module, family: Family, stage: str
                 ) -> List[List[str]]:
    """Module names of each block of ``stage``: one list per block, one name
    per pathway."""
    modules = dict(backbone.named_modules())
    paths = family.stages[stage]
    if paths[0].startswith('='):  # explicit block names (C3D)
        return [[p[1:]] for p in paths if p[1:] in modules]
    counts = []
    for path in paths:
        container = modules.get(path)
        counts.append(len(container) if isinstance(
            container, (nn.Sequential, nn.ModuleList)) else 0)
    count = min(counts)
    return [[f'{path}.{i}' for path in paths] for i in range(count)]


def stage_blocks(backbone: nn.Module, family: Family) -> Dict[str, int]:
    """Blocks per stage of ``backbone`` (stages it lacks left out)."""
    sizes = {stage: len(_stage_paths(backbone, family, stage))
             for stage in family.stages}
    return {stage: n for stage, n in sizes.items() if n}


def resolve_stages(backbone: nn.Module,
                   stages: Union[str, Stages]) -> List[str]:
    """Module names after which A² blocks run, for ``stages`` (a dict
    stage -> block indices, a name from :data:`PRESETS`, or
    ``'default'``) in ``backbone``.

    Raises:
        ValueError: the backbone's family is not known, a preset, stage or
            block index does not exist (names the valid ones).
    """
    family = family_of(backbone)
    kind = type(backbone).__name__
    if family is None:
        raise ValueError(
            f'placement by stage does not know {kind}; known backbones: '
            f'{sorted(FAMILIES)}; name sub-modules with positions=[...]')
    sizes = stage_blocks(backbone, family)
    valid = ', '.join(f'{s} (blocks 0-{n - 1})' for s, n in sizes.items())
    if isinstance(stages, str):
        if stages == 'default':
            stages = family.default(sizes)
        elif stages in PRESETS:
            stages = PRESETS[stages]
        else:
            raise ValueError(f'unknown placement {stages!r}; named: '
                             f"{sorted(list(PRESETS) + ['default'])}")
    if not isinstance(stages, dict) or not stages:
        raise ValueError('stages must be a non-empty dict stage -> block '
                         f'indices, got {stages!r}; {kind} stages: {valid}')
    positions = []
    for stage, indices in stages.items():
        if stage not in sizes:
            raise ValueError(f'{kind} ({family.name}) has no stage '
                             f'{stage!r}; stages: {valid}')
        if isinstance(indices, int):
            indices = [indices]
        blocks = _stage_paths(backbone, family, stage)
        for index in indices:
            if not isinstance(index, int) or not 0 <= index < len(blocks):
                raise ValueError(
                    f'{kind} stage {stage!r} has blocks 0-{len(blocks) - 1}'
                    f', got index {index!r}; stages: {valid}')
            positions.extend(blocks[index])
    if len(set(positions)) != len(positions):
        raise ValueError(f'stages {stages!r} name a block twice')
    return positions


def family_layout(backbone: nn.Module) -> Optional[Union[str, Dict]]:
    """The layout of ``backbone``'s block outputs from its family, or None
    for an unknown backbone."""
    family = family_of(backbone)
    if family is None:
        return None
    layout = family.layout
    return layout(backbone) if callable(layout) else layout
