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
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch.func import functional_call

from a2mm.utils.input_shape import guess_input_shape
from .layouts import ClipCount, detect_layout, layer_widths, wrap_block
from .placement import family_layout, resolve_stages

__all__ = [
    'InsertedBackbone', 'RunBlockAfter', 'UnknownPositionError', 'dry_run',
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
                 output):
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


def dry_run(backbone: nn.Module, positions: Sequence[str],
            input_shape: Sequence[int]) -> Dict[str, object]:
    """Output of each named sub-module (``meta`` tensors, or what the
    sub-module returns), from one forward pass on the ``meta`` device
    (shapes only: no memory, no arithmetic; the backbone's own tensors are
    untouched).

    Raises:
        UnknownPositionError: (a ``KeyError``) a position names no
            sub-module; the message lists close matches and valid ones.
        ValueError: the backbone does not run on ``input_shape``, or a
            sub-module is not on the forward path.
    """
    modules = _check_positions(backbone, positions)
    outputs: Dict[str, object] = {}

    def record(name: str):

        def hook(module, args, output):
            outputs[name] = output
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
        if position not in outputs:
            raise ValueError(f'{position!r} exists but did not run in a '
                             f'forward pass of {type(backbone).__name__}; '
                             'choose a sub-module on the forward path')
    return outputs


def find_output_shapes(backbone: nn.Module, positions: Sequence[str],
                       input_shape: Sequence[int]) -> Dict[str, torch.Size]:
    """Output shape of each named sub-module, from :func:`dry_run`.

    Raises:
        UnknownPositionError: as :func:`dry_run`.
        ValueError: as :func:`dry_run`, or a sub-module returns no
            ``(B, C, *spatial)`` tensor with 1-3 spatial dims.
    """
    outputs = dry_run(backbone, positions, input_shape)
    shapes = {}
    for position in positions:
        output = outputs[position]
        shape = output.shape if torch.is_tensor(output) \
            else type(output).__name__
        if not isinstance(shape, torch.Size) or len(shape) not in (3, 4, 5):
            raise ValueError(
                f'{position!r} returns {shape}, but an inserted block needs a '
                '(B, C, *spatial) tensor with 1-3 spatial dims')
        shapes[position] = shape
    return shapes


#: the detected layout each declared layout must agree with
_DETECTED = {'channels': 'channels', 'frames': 'channels', 'clip': 'channels',
             'channels_last': 'channels_last', 'tokens': 'tokens',
             'tokens_thw': 'tokens_thw'}


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
        positions (list[str], optional): names of sub-modules (as in
            ``named_modules()``, e.g. ``'layer3.0'``) after which a block
            runs; checked by :meth:`insert_blocks`.
        stages (dict | str, optional): instead of ``positions``, blocks by
            stage, e.g. ``dict(res3=[1, 3], res4=[1, 3, 5])``, a preset
            (``'res34_5'``) or ``'default'``: resolved for the backbone's
            family by :func:`~a2mm.models.backbones.placement.
            resolve_stages`. Give exactly one of the two.
        init_cfg (dict, optional): MMEngine init config of the wrapper.
    """

    def __init__(self,
                 backbone: Dict,
                 positions: Optional[Sequence[str]] = None,
                 stages: Optional[Union[str, Dict]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        if (positions is None) == (stages is None):
            raise ValueError('give exactly one of positions=[module names] '
                             'and stages=dict(stage=[block indices]) (or a '
                             f'preset name); got positions={positions!r}, '
                             f'stages={stages!r}')
        if stages is not None:
            positions = resolve_stages(self.backbone, stages)
        self.positions: List[str] = list(positions) \
            if not isinstance(positions, str) else positions
        self._clips = ClipCount()

    def insert_blocks(
            self,
            build_block: Callable[[int], nn.Module],
            dry_run_shape: Optional[Sequence[int]] = None,
            layout: Optional[Union[str, Dict]] = None,
            num_segments: Optional[int] = None) -> nn.ModuleDict:
        """Build one block per position and hook it after its sub-module,
        behind the adapter of the output's layout
        (:mod:`~a2mm.models.backbones.layouts`).

        Args:
            build_block: ``in_channels -> block``, called in the order of
                ``positions`` with the channels of each sub-module's output.
            dry_run_shape: input shape of the dry run that finds the
                channels. Default: :func:`~a2mm.utils.guess_input_shape` of
                the wrapped backbone.
            layout: the layout of the sub-modules' outputs (a name or dict,
                see :func:`~a2mm.models.backbones.layouts.wrap_block`).
                Default: the backbone family's
                (:func:`~a2mm.models.backbones.placement.family_layout`),
                else the one the dry run shows.
            num_segments: frames per clip of the ``'clip'`` layout.
                Default: the backbone's ``num_segments``; for a backbone
                that takes ``(N, C, T, H, W)`` (C2D), the input's frames.

        Returns:
            nn.ModuleDict: the blocks (with their adapters), keyed by
            position with ``.`` replaced by ``-``.

        Raises:
            ValueError: an output whose layout is not the declared one, or
                has no channel axis (an A² block is never built over
                another axis).
        """
        if dry_run_shape:
            shape = tuple(dry_run_shape)
        else:
            try:
                shape = guess_input_shape(self.backbone)
            except ValueError as error:
                raise ValueError(
                    f'{error}; pass dry_run_shape=(B, C, ...)') from None
        outputs = dry_run(self.backbone, self.positions, shape)
        if layout is None:
            layout = family_layout(self.backbone)
        modules = dict(self.backbone.named_modules())
        blocks = nn.ModuleDict()
        for position in self.positions:
            found, channels = detect_layout(outputs[position],
                                            layer_widths(modules[position]),
                                            position)
            chosen = self._layout_for(position, found, layout, num_segments,
                                      len(shape))
            key = position.replace('.', '-')
            blocks[key] = wrap_block(build_block(channels), chosen,
                                     self._clips)
            modules[position].register_forward_hook(RunBlockAfter(
                blocks[key]))
        return blocks

    def _layout_for(self, position: str, found: str,
                    layout: Optional[Union[str, Dict]],
                    num_segments: Optional[int], input_dims: int):
        """The layout of ``position``'s output: the declared one (checked
        against the ``found`` one), else the found one."""
        kind = type(self.backbone).__name__
        if layout is None:
            if found == 'tokens' and hasattr(self.backbone, 'cls_token'):
                raise ValueError(
                    f'{position!r} of {kind} gives tokens (B, L, C) and '
                    f'{kind} has a class token: declare '
                    "layout=dict(type='tokens', cls_tokens=K)")
            return found
        name = layout.get('type') if isinstance(layout, dict) else layout
        if _DETECTED.get(name) != found:
            raise ValueError(
                f'{position!r} of {kind} gives a {found!r} layout, but the '
                f'layout is {layout!r}; an A² block there would run over an '
                'axis that is not channels')
        if name != 'clip':
            return layout
        options = dict(layout) if isinstance(layout, dict) else {}
        segments = options.get('num_segments', num_segments)
        if segments is None:
            segments = getattr(self.backbone, 'num_segments', None)
        if segments is None and input_dims != 5:
            raise ValueError(
                f'{kind} sees frames (N*T, C, H, W): the temporal (clip) '
                'A² needs num_segments (frames per clip, e.g. the train '
                "pipeline's SampleFrames num_clips), or layout='frames' "
                'for A² within each frame')
        return dict(type='clip', num_segments=segments)

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == 'backbone':
                raise
            return getattr(super().__getattr__('backbone'), name)

    def forward(self, x, *args, **kwargs):
        """The wrapped backbone's forward; the blocks run through hooks.
        The clips of a 5D input are counted for the ``'clip'`` layout."""
        self._clips.value = x.shape[0] \
            if torch.is_tensor(x) and x.dim() == 5 else None
        return self.backbone(x, *args, **kwargs)
