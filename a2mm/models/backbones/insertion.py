"""Run blocks after named sub-modules of any registered backbone: the
mechanism behind :class:`~a2mm.models.backbones.A2Inserted` (A² blocks) and
:class:`~a2mm.models.backbones.BlockInserted` (any residual-style block).

The wrapped backbone is built unchanged (its checkpoint keys, ``pretrained=``
loading, freezing and ``train()`` behave as before, under the ``backbone.``
prefix). Each block's ``in_channels`` is the channel count of its
sub-module's output, found by a dry forward pass on the ``meta`` device
(:func:`find_output_shapes`: no memory, no arithmetic), and the block runs
on that output through a forward hook (:class:`RunBlockAfter`).
"""
import difflib
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch.func import functional_call

from a2mm.utils.input_shape import guess_input_shape

__all__ = [
    'InsertedBackbone', 'RunBlockAfter', 'UnknownPositionError',
    'find_output_shapes'
]

_MAX_LISTED = 40


class UnknownPositionError(KeyError):
    """A position names no sub-module of the backbone."""

    def __str__(self) -> str:  # KeyError would show the repr, one line
        return str(self.args[0])


class RunBlockAfter:
    """Forward hook: replace a module's output ``y`` by ``block(y)``.

    A plain class (not a closure) so that ``copy.deepcopy`` of the model
    (EMA, model soups) makes the copied hook call the copied block, and
    pickling works.
    """

    def __init__(self, block: nn.Module) -> None:
        self.block = block

    def __call__(self, module: nn.Module, args: Tuple,
                 output: torch.Tensor) -> torch.Tensor:
        return self.block(output)


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
                f'{position!r} returns {shape}, but an inserted block needs a '
                '(B, C, *spatial) tensor with 1-3 spatial dims')
    return shapes


class InsertedBackbone(BaseModule):
    """A registered backbone, built from its config and kept as
    ``self.backbone``, with blocks run after named sub-modules.

    Input and output: those of the wrapped backbone. A subclass builds its
    blocks with :meth:`insert_blocks` and keeps the returned dict as a
    child. Attributes that the wrapper lacks (e.g. ``num_segments``, read by
    ``Recognizer2D``) are read from the wrapped backbone.

    Args:
        backbone (dict): config of the backbone to wrap (any registered
            type).
        positions (list[str]): names of sub-modules (as in
            ``named_modules()``, e.g. ``'layer3.0'``) after which a block
            runs; checked by :meth:`insert_blocks`.
        init_cfg (dict, optional): MMEngine init config of the wrapper.
    """

    def __init__(self,
                 backbone: Dict,
                 positions: Sequence[str],
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.positions: List[str] = list(positions) \
            if not isinstance(positions, str) else positions

    def insert_blocks(
            self,
            build_block: Callable[[int], nn.Module],
            dry_run_shape: Optional[Sequence[int]] = None) -> nn.ModuleDict:
        """Build one block per position and hook it after its sub-module.

        Args:
            build_block: ``in_channels -> block``, called in the order of
                ``positions`` with the channels of each sub-module's output.
            dry_run_shape: input shape of the dry run that finds the
                channels. Default: :func:`~a2mm.utils.guess_input_shape` of
                the wrapped backbone.

        Returns:
            nn.ModuleDict: the blocks, keyed by position with ``.`` replaced
            by ``-``.
        """
        if dry_run_shape:
            shape = dry_run_shape
        else:
            try:
                shape = guess_input_shape(self.backbone)
            except ValueError as error:
                raise ValueError(
                    f'{error}; pass dry_run_shape=(B, C, ...)') from None
        shapes = find_output_shapes(self.backbone, self.positions, shape)
        modules = dict(self.backbone.named_modules())
        blocks = nn.ModuleDict()
        for position in self.positions:
            key = position.replace('.', '-')
            blocks[key] = build_block(shapes[position][1])
            modules[position].register_forward_hook(RunBlockAfter(
                blocks[key]))
        return blocks

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
