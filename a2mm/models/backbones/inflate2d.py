"""Inflate a 2D ImageNet ResNet checkpoint (torchvision or timm naming, a
``.pth`` or ``.safetensors`` file) into a 3D ResNet (I3D).

The mapping and the arithmetic are MMAction2's (``ResNet3d.inflate_weights``
in ``mmaction/models/backbones/resnet3d.py``): a 2D kernel ``(O, I, kh, kw)``
is repeated ``kt`` times along time and divided by ``kt``, so a clip of
identical frames gives the 2D network's features; BN parameters and running
statistics are copied. Names::

    conv1 / bn1                        -> conv1.conv / conv1.bn
    layerX.Y.convN / layerX.Y.bnN      -> layerX.Y.convN.conv / .bn
    layerX.Y.downsample.0 / .1         -> layerX.Y.downsample.conv / .bn

torchvision's and timm's ResNets (``resnet18`` ... ``resnet152``) use these
names, and both call the classifier ``fc`` (not used). Other blocks of the
3D network (A², non-local) are not in a 2D checkpoint and keep their own
initialisation.

What MMAction2 does differently: it reads ``.pth`` only, and a checkpoint
whose keys do not fit (another model, another depth, a 3D checkpoint) only
logs one warning per layer and leaves those layers as they were built. Here
that is a ``ValueError`` naming the file and the keys, before any weight is
copied.
"""
import re
from typing import Dict, List, Mapping, Tuple

import torch
import torch.nn as nn
from mmaction.models.backbones.resnet3d import ResNet3d
from mmcv.cnn import ConvModule
from mmengine.logging import MMLogger

from a2mm.utils.checkpoint import (STRIP_BACKBONE, read_state_dict,
                                   revise_keys_of)

__all__ = ['resnet2d_names', 'check_2d_state_dict', 'inflate_2d_weights']

#: The ResNet modules of a ResNet3d that a 2D ResNet has (not A² / NL ones).
_RESNET_MODULE = re.compile(r'^(conv1|layer\d+\.\d+\.(conv\d+|downsample))$')
_BN_TENSORS = ('weight', 'bias', 'running_mean', 'running_var')
#: Keys of a 2D ResNet's layers (the classifier, ``fc`` in torchvision and
#: timm, is not one of them and may go unused).
_RESNET_KEY = re.compile(r'^(conv1|bn1|layer\d+)\.')


def resnet2d_names(model: nn.Module) -> List[Tuple[str, str, str]]:
    """``(3D module name, 2D conv name, 2D BN name)`` for each ConvModule of
    the ResNet layout in ``model``, in module order."""
    names = []
    for name, module in model.named_modules():
        if not (isinstance(module, ConvModule)
                and _RESNET_MODULE.match(name)):
            continue
        if name.endswith('downsample'):
            names.append((name, f'{name}.0', f'{name}.1'))
        else:
            parent, _, conv = name.rpartition('.')
            bn = conv.replace('conv', 'bn')
            names.append((name, name, f'{parent}.{bn}' if parent else bn))
    return names


def _expected_shapes(model: nn.Module) -> Dict[str, Tuple[int, ...]]:
    """2D key -> 2D shape that ``model`` needs."""
    modules = dict(model.named_modules())
    shapes = {}
    for name, conv, bn in resnet2d_names(model):
        weight = modules[name].conv.weight  # (O, I, kt, kh, kw)
        shapes[f'{conv}.weight'] = tuple(weight.shape[:2] + weight.shape[3:])
        if modules[name].conv.bias is not None:
            shapes[f'{conv}.bias'] = (weight.shape[0], )
        for tensor in _BN_TENSORS:
            shapes[f'{bn}.{tensor}'] = (weight.shape[0], )
    return shapes


def _sample(keys, count: int = 6) -> str:
    keys = list(keys)
    more = f', ... ({len(keys)} in all)' if len(keys) > count else ''
    return ', '.join(keys[:count]) + more


def check_2d_state_dict(model: nn.Module, state: Mapping[str, torch.Tensor],
                        filename: str) -> None:
    """Check that ``state`` (prefixes already stripped) has every 2D ResNet
    tensor ``model`` needs, at the right shape, and no ResNet layer that
    ``model`` lacks (a ResNet-101 has every key of a ResNet-50, at the same
    shapes, and more blocks in ``layer3``).

    Raises:
        ValueError: names the file, the missing, wrong-shape or extra keys,
            the keys the file has, and a hint when it is a 3D checkpoint.
    """
    expected = _expected_shapes(model)
    missing = [k for k in expected if k not in state]
    wrong = [(k, expected[k], tuple(state[k].shape)) for k in expected
             if k in state and tuple(state[k].shape) != expected[k]]
    extra = [] if missing else [
        k for k in state if _RESNET_KEY.match(k) and k not in expected
        and not k.endswith('.num_batches_tracked')]
    if not (missing or wrong or extra):
        return
    what = (f'{type(model).__name__}(depth={getattr(model, "depth", "?")}, '
            f'base_channels={getattr(model, "base_channels", "?")})')
    lines = [f'{filename} is not a torchvision/timm 2D ResNet checkpoint '
             f'that fits {what}:']
    if missing:
        lines.append(f'  {len(missing)} of {len(expected)} expected keys are '
                     f'missing: {_sample(missing)}')
    if wrong:
        lines.append(f'  {len(wrong)} keys have another shape (key: '
                     f'expected vs in the file): ' + _sample(
                         f'{k}: {exp} vs {got}' for k, exp, got in wrong))
    if extra:
        lines.append(f'  {len(extra)} keys of ResNet layers that the model '
                     f'does not have (another depth?): {_sample(extra)}')
    lines.append(f'  the file has {len(state)} keys: ' + _sample(
        k for k in state if not k.endswith('.num_batches_tracked')))
    if any(v.dim() == 5 for v in state.values()) or any(
            k.endswith('.conv.weight') for k in state):
        lines.append('  it looks like a 3D (MMAction2) checkpoint: load it '
                     'with pretrained2d=False, or with load_from')
    raise ValueError('\n'.join(lines))


def inflate_2d_weights(model: ResNet3d, filename: str,
                       logger: MMLogger) -> List[str]:
    """Inflate the 2D ResNet checkpoint ``filename`` into ``model``.

    Args:
        model: a ``ResNet3d`` (or subclass) whose ResNet layout matches the
            checkpoint's (same depth and widths).
        filename: ``.pth`` or ``.safetensors`` file (see
            :func:`~a2mm.utils.checkpoint.read_state_dict`).
        logger: receives one line with what was inflated and what was not.

    Returns:
        list[str]: the checkpoint's keys that were not used (e.g. ``fc.*``).

    Raises:
        ValueError: see :func:`check_2d_state_dict`.
    """
    # DataParallel's ``module.``, the ``backbone.`` of MMPretrain classifiers
    state = revise_keys_of(read_state_dict(filename), STRIP_BACKBONE)
    check_2d_state_dict(model, state, filename)
    modules = dict(model.named_modules())
    used: List[str] = []
    for name, conv, bn in resnet2d_names(model):
        ResNet3d._inflate_conv_params(modules[name].conv, state, conv, used)
        ResNet3d._inflate_bn_params(modules[name].bn, state, bn, used)
    unused = [k for k in state if k not in set(used)]
    logger.info(f'inflated {len(used)} tensors of the 2D checkpoint '
                f'{filename} into {type(model).__name__}; not used: '
                f'{_sample(unused) or "none"}')
    return unused
