"""Insert A² blocks into any registered backbone, from a config.

Paper: Y. Chen et al., "A²-Nets: Double Attention Networks", NeurIPS 2018
(arXiv:1810.11579): the block is "plug-and-play". :class:`A2Inserted` makes
that literal for MMAction2: name the backbone and the sub-modules after which
A² blocks should run; their channel counts are found by a dry forward pass on
the ``meta`` device (no memory, no arithmetic)::

    backbone=dict(
        type='A2Inserted',
        backbone=dict(type='ResNet3dSlowFast', pretrained=None),
        positions=['slow_path.layer3.1', 'fast_path.layer3.1'])

How it works: the wrapped backbone is built unchanged (its checkpoint keys,
``pretrained=`` loading, freezing and ``train()`` behave as before, under the
``backbone.`` prefix); each A² block lives in ``a2_blocks`` (key: the
position with ``.`` replaced by ``-``) and runs on the output of its
sub-module through a forward hook (checked under eager execution,
``torch.jit.trace``, ``torch.onnx.export`` and ``torch.compile`` with
torch 2.13; the A² blocks also show in MMEngine's FLOP count).
"""
import difflib
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch.func import functional_call

from a2mm.models.blocks import A2Block
from a2mm.registry import register_model

__all__ = [
    'A2Inserted', 'UnknownPositionError', 'find_output_shapes',
    'default_dry_run_shape'
]

#: Default dry-run clip for 3D backbones: C3D's fixed input (16x112x112)
#: that also suits SlowFast (T divisible by its resample rate, 8) and X3D.
_CLIP_SHAPE = (16, 112, 112)
_IMAGE_SHAPE = (112, 112)
_MAX_LISTED = 40


class UnknownPositionError(KeyError):
    """A position names no sub-module of the backbone."""

    def __str__(self) -> str:  # KeyError would show the repr, one line
        return str(self.args[0])


class _ApplyA2:
    """Forward hook: replace a module's output ``y`` by ``a2_block(y)``.

    A plain class (not a closure) so that ``copy.deepcopy`` of the model
    (EMA, model soups) makes the copied hook call the copied block, and
    pickling works.
    """

    def __init__(self, a2_block: A2Block) -> None:
        self.a2_block = a2_block

    def __call__(self, module: nn.Module, args: Tuple,
                 output: torch.Tensor) -> torch.Tensor:
        return self.a2_block(output)


def default_dry_run_shape(backbone: nn.Module) -> Tuple[int, ...]:
    """Input shape for the dry run, from the backbone's first convolution:
    ``Conv3d`` -> ``(1, C_in, 16, 112, 112)``; ``Conv2d`` ->
    ``(S, C_in, 112, 112)`` with ``S = backbone.num_segments`` (TSM/TIN
    need whole clips) or 1; ``Conv1d`` -> ``(1, C_in, 64)``."""
    for module in backbone.modules():
        if isinstance(module, nn.Conv3d):
            return (1, module.in_channels) + _CLIP_SHAPE
        if isinstance(module, nn.Conv2d):
            segments = getattr(backbone, 'num_segments', 1)
            return (segments, module.in_channels) + _IMAGE_SHAPE
        if isinstance(module, nn.Conv1d):
            return (1, module.in_channels, 64)
    raise ValueError(
        f'cannot guess an input shape for {type(backbone).__name__} (no '
        'Conv1d/2d/3d found); pass dry_run_shape=(B, C, ...)')


def _check_positions(backbone: nn.Module,
                     positions: Sequence[str]) -> Dict[str, nn.Module]:
    """Map each position to its module; raise naming the missing ones and
    listing valid positions of the same depth."""
    if isinstance(positions, str):
        raise TypeError(f'positions must be a list of module names, got the '
                        f'string {positions!r}; write [{positions!r}]')
    names = dict(backbone.named_modules())
    names.pop('', None)
    duplicates = sorted({p for p in positions if positions.count(p) > 1})
    if duplicates:
        raise ValueError(f'positions repeat {duplicates}')
    if not positions:
        raise ValueError('positions is empty: name at least one sub-module')
    missing = [p for p in positions if p not in names]
    if missing:
        lines = [f'{type(backbone).__name__} has no sub-module named '
                 + ', '.join(repr(p) for p in missing) + '.']
        for position in missing:
            close = difflib.get_close_matches(position, names, n=5)
            if close:
                lines.append(f'  {position!r}: did you mean {close}?')
        depth = max(p.count('.') for p in missing)
        valid = [n for n in names if n.count('.') <= depth]
        shown = ', '.join(valid[:_MAX_LISTED])
        more = len(valid) - _MAX_LISTED
        lines.append(f'Valid positions (up to depth {depth + 1}): {shown}'
                     + (f', ... ({more} more)' if more > 0 else ''))
        raise UnknownPositionError('\n'.join(lines))
    return {p: names[p] for p in positions}


def find_output_shapes(backbone: nn.Module, positions: Sequence[str],
                       input_shape: Sequence[int]) -> Dict[str, torch.Size]:
    """Output shape of each named sub-module, from one forward pass on the
    ``meta`` device (shapes only: no memory, no arithmetic; the backbone's
    own tensors are untouched).

    Raises:
        UnknownPositionError: (a ``KeyError``) a position names no
            sub-module; the message lists close matches and valid ones.
        ValueError: a sub-module does not run, or returns no tensor.
    """
    modules = _check_positions(backbone, positions)
    shapes: Dict[str, object] = {}

    def record(name: str):

        def hook(module, args, output):
            shapes[name] = output.shape if torch.is_tensor(output) \
                else type(output).__name__
        return hook

    handles = [m.register_forward_hook(record(p)) for p, m in modules.items()]
    meta = {
        name: tensor.to('meta')
        for name, tensor in list(backbone.named_parameters()) +
        list(backbone.named_buffers())
    }
    try:
        with torch.no_grad():
            functional_call(backbone, meta,
                            (torch.empty(tuple(input_shape), device='meta'), ))
    except Exception as error:
        raise ValueError(
            f'the dry run of {type(backbone).__name__} on an input of shape '
            f'{tuple(input_shape)} failed ({type(error).__name__}: {error}); '
            'pass dry_run_shape= with a shape this backbone accepts') \
            from error
    finally:
        for handle in handles:
            handle.remove()
    for position in positions:
        shape = shapes.get(position)
        if shape is None:
            raise ValueError(f'{position!r} exists but did not run in a '
                             f'forward pass of {type(backbone).__name__}; '
                             'choose a sub-module on the forward path')
        if not isinstance(shape, torch.Size) or len(shape) not in (3, 4, 5):
            raise ValueError(
                f'{position!r} returns {shape}, but an A² block needs a '
                '(B, C, *spatial) tensor with 1-3 spatial dims')
    return shapes


@register_model
class A2Inserted(BaseModule):
    """Any registered backbone with A² blocks after named sub-modules.

    Input and output: those of the wrapped backbone. Each A² block takes the
    output ``(B, C, *spatial)`` of its sub-module, with ``C`` found by a dry
    run, and returns the same shape; it starts as an identity.

    Args:
        backbone (dict): config of the backbone to wrap (any registered
            type, e.g. ``ResNet3dSlowFast``, ``ResNetTSM``, ``X3D``,
            ``C3D``).
        positions (list[str]): names of sub-modules (as in
            ``named_modules()``, e.g. ``'layer3.0'``,
            ``'slow_path.layer4.1'``, ``'conv4b'``) after which an A² block
            runs. A wrong name raises :class:`UnknownPositionError` (a
            ``KeyError``) listing valid ones.
        a2_cfg (dict, optional): keyword arguments of :class:`A2Block` other
            than ``in_channels``, shared by all blocks. Default: None.
        dry_run_shape (Sequence[int], optional): input shape of the dry run
            that finds the channels. Default: guessed by
            :func:`default_dry_run_shape`.
        init_cfg (dict, optional): MMEngine init config of the wrapper.

    Attributes that the wrapper lacks (e.g. ``num_segments``, read by
    ``Recognizer2D``) are read from the wrapped backbone.
    """

    def __init__(self,
                 backbone: Dict,
                 positions: Sequence[str],
                 a2_cfg: Optional[Dict] = None,
                 dry_run_shape: Optional[Sequence[int]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        a2_cfg = {} if a2_cfg is None else dict(a2_cfg)
        if 'in_channels' in a2_cfg:
            raise ValueError('a2_cfg must not set in_channels: it is found '
                             f'by the dry run (got a2_cfg={a2_cfg!r})')
        self.backbone = MODELS.build(backbone)
        self.positions: List[str] = list(positions) \
            if not isinstance(positions, str) else positions
        shape = dry_run_shape or default_dry_run_shape(self.backbone)
        shapes = find_output_shapes(self.backbone, self.positions, shape)
        modules = dict(self.backbone.named_modules())
        self.a2_blocks = nn.ModuleDict()
        for position in self.positions:
            key = position.replace('.', '-')
            self.a2_blocks[key] = A2Block(shapes[position][1], **a2_cfg)
            modules[position].register_forward_hook(
                _ApplyA2(self.a2_blocks[key]))

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == 'backbone':
                raise
            return getattr(super().__getattr__('backbone'), name)

    def init_weights(self) -> None:
        """Initialise the wrapped backbone as it would be alone (including
        its ``pretrained=`` checkpoint), then zero the A² blocks' output
        projections (the backbone's init may reset norm layers)."""
        super().init_weights()  # calls the children's init_weights
        for block in self.a2_blocks.values():
            block.zero_init_last()

    def forward(self, *args, **kwargs):
        """The wrapped backbone's forward; A² blocks run through hooks."""
        return self.backbone(*args, **kwargs)
