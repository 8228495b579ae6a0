"""Layout adapters: an A² block runs over the channel axis of a sub-module's
output whatever layout the backbone uses, or is refused.

:class:`~a2mm.models.blocks.A2Block` takes ``(B, C, *spatial)``. Backbones
hand out other layouts (MMAction2 1.1.0, ``mmaction/models/backbones``):

================  =====================================  ==================
layout            sub-module output                      backbones
================  =====================================  ==================
``'channels'``    ``(B, C, *spatial)``                   3D CNNs, UniFormer
``'frames'``      ``(N*T, C, H, W)``: per frame          2D CNNs (by name)
``'clip'``        ``(N*T, C, H, W)`` seen as             2D CNNs (TSN, TSM,
                  ``(N, C, T, H, W)``                    TIN, TANet, TRN),
                                                         C2D
``'channels_last'`` ``(B, D, H, W, C)``                  Swin blocks
``'tokens'``      ``(B*F, K + L, C)``; ``(K + L, B*F,    VideoMAE(V2),
                  C)`` when ``seq_first``                TimeSformer,
                                                         UniFormerV2
``'tokens_thw'``  a tuple ``(tokens (B, K + L, C), thw)`` MViT blocks
================  =====================================  ==================

``K`` class tokens are left out of the block and passed through; ``F``
frames folded into the batch (TimeSformer's space-only attention,
UniFormerV2) are put back in the sequence, so that one A² block sees the
whole clip. Tokens become ``(B, C, F*L)``, the 1D form: A² pools over all
positions and its projections are position-wise (Sec. 3 of the paper), so
the 1D form equals the 3D one on the tokens' grid (without a norm layer).

The ``'clip'`` form is what MMAction2's ``ResNetTSM`` does for its
non-local blocks (``num_segments``): a frame-wise backbone's block sees
``T`` frames at once, so that A² relates them. ``T`` is ``num_segments``, or,
when the backbone takes ``(N, C, T, H, W)`` clips itself (C2D), the frames
per clip of the current input (:class:`ClipCount`).

:func:`detect_layout` checks a dry run's output against the widths of the
sub-module's own layers, so that an A² block is never built over an axis that
is not channels.
"""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

__all__ = [
    'LAYOUTS', 'ClipCount', 'FramesAsClip', 'ChannelsLast', 'Tokens',
    'TokensWithShape', 'layer_widths', 'detect_layout', 'wrap_block'
]

#: layout names accepted by ``layout=`` (see the module doc)
LAYOUTS = ('channels', 'frames', 'clip', 'channels_last', 'tokens',
           'tokens_thw')


class ClipCount:
    """The number of clips ``N`` in the input the backbone is running on,
    set by :class:`~a2mm.models.backbones.insertion.InsertedBackbone`'s
    forward for ``(N, C, T, H, W)`` inputs and read by
    :class:`FramesAsClip` (a plain object, shared by the wrapper's
    adapters; ``copy.deepcopy`` of the model copies it once)."""

    def __init__(self) -> None:
        self.value: Optional[int] = None


class _Adapter(nn.Module):
    """An adapter holding one block as ``self.block``."""

    block: nn.Module

    @property
    def in_channels(self) -> int:
        """The block's ``in_channels``."""
        return self.block.in_channels


class FramesAsClip(_Adapter):
    """Run ``block`` on ``(N*T, C, H, W)`` frames as ``(N, C, T, H, W)``.

    Args:
        block (nn.Module): a ``(B, C, *spatial)`` block.
        num_segments (int, optional): ``T``. Default: None, then ``N`` is
            read from ``clips``.
        clips (ClipCount, optional): ``N`` of the backbone's current
            5D input (C2D reshapes clips to frames inside).
    """

    def __init__(self,
                 block: nn.Module,
                 num_segments: Optional[int] = None,
                 clips: Optional[ClipCount] = None) -> None:
        super().__init__()
        if num_segments is None and clips is None:
            raise ValueError('the clip layout needs num_segments (frames per '
                             'clip) or a ClipCount of the backbone input')
        if num_segments is not None and (not isinstance(num_segments, int)
                                         or num_segments < 1):
            raise ValueError('num_segments must be a positive int, got '
                             f'{num_segments!r}')
        self.block = block
        self.num_segments = num_segments
        self.clips = clips

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        frames = x.shape[0]
        if self.num_segments is not None:
            segments = self.num_segments
        elif self.clips.value:
            segments = frames // self.clips.value
        else:
            raise RuntimeError('FramesAsClip: the number of clips of the '
                               'backbone input is unknown (a 5D input sets '
                               'it); set num_segments')
        if frames % segments:
            raise ValueError(
                f'{frames} frames do not split into clips of {segments} '
                '(num_segments); the batch must hold whole clips')
        n = frames // segments
        clip = x.reshape((n, segments) + x.shape[1:]).transpose(1, 2)
        out = self.block(clip)  # (N, C, T, H, W)
        return out.transpose(1, 2).reshape(x.shape)

    def extra_repr(self) -> str:
        return f'num_segments={self.num_segments}'


class ChannelsLast(_Adapter):
    """Run ``block`` on a channels-last ``(B, *spatial, C)`` tensor (Swin's
    ``(B, D, H, W, C)``) as ``(B, C, *spatial)``."""

    def __init__(self, block: nn.Module) -> None:
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x.movedim(-1, 1)).movedim(1, -1)


class Tokens(_Adapter):
    """Run ``block`` on a token sequence as ``(B, C, F*L)``.

    Args:
        block (nn.Module): a ``(B, C, *spatial)`` block.
        cls_tokens (int): ``K`` leading tokens that are not positions (class
            tokens), passed through unchanged. Default: 0.
        frames (int): ``F`` frames folded into the batch (``B*F`` sequences
            of one clip), joined in one sequence for the block. Default: 1.
        seq_first (bool): the tokens come as ``(K + L, B*F, C)`` (CLIP's
            layout, UniFormerV2). Default: False: ``(B*F, K + L, C)``.
    """

    def __init__(self,
                 block: nn.Module,
                 cls_tokens: int = 0,
                 frames: int = 1,
                 seq_first: bool = False) -> None:
        super().__init__()
        for key, value, low in (('cls_tokens', cls_tokens, 0),
                                ('frames', frames, 1)):
            if not isinstance(value, int) or value < low:
                raise ValueError(f'{key} must be an int >= {low}, got '
                                 f'{value!r}')
        self.block = block
        self.cls_tokens = cls_tokens
        self.frames = frames
        self.seq_first = seq_first

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.seq_first:
            x = x.transpose(0, 1)  # (B*F, K + L, C)
        seqs, length, channels = x.shape
        if seqs % self.frames:
            raise ValueError(f'{seqs} sequences do not split into clips of '
                             f'{self.frames} frames')
        k = self.cls_tokens
        if length <= k:
            raise ValueError(f'{length} tokens, but {k} class tokens')
        cls, patches = x[:, :k], x[:, k:]  # (B*F, K, C), (B*F, L, C)
        b = seqs // self.frames
        grid = patches.reshape(b, self.frames * (length - k), channels)
        out = self.block(grid.transpose(1, 2))  # (B, C, F*L)
        out = out.transpose(1, 2).reshape(patches.shape)
        out = torch.cat((cls, out), dim=1) if k else out
        return out.transpose(0, 1) if self.seq_first else out

    def extra_repr(self) -> str:
        return (f'cls_tokens={self.cls_tokens}, frames={self.frames}, '
                f'seq_first={self.seq_first}')


class TokensWithShape(_Adapter):
    """Run ``block`` on MViT's ``(tokens (B, K + L, C), thw)`` output; ``K``
    (0 or 1 class token) is ``K + L - T*H*W``."""

    def __init__(self, block: nn.Module) -> None:
        super().__init__()
        self.block = block

    def forward(self, output: Tuple[torch.Tensor, Sequence[int]]) -> Tuple:
        tokens, thw = output
        positions = 1
        for size in thw:
            positions *= int(size)
        k = tokens.shape[1] - positions
        if k not in (0, 1):
            raise ValueError(f'{tokens.shape[1]} tokens do not fit the grid '
                             f'{tuple(thw)} (+ at most one class token)')
        patches = tokens[:, k:].transpose(1, 2)  # (B, C, T*H*W)
        out = self.block(patches).transpose(1, 2)
        out = torch.cat((tokens[:, :k], out), dim=1) if k else out
        return (out, ) + tuple(output[1:])


def layer_widths(module: nn.Module) -> set:
    """Output widths of ``module``'s own layers (convolutions, linear and
    norm layers): the channel counts its output can have."""
    widths = set()
    for m in module.modules():
        for attr in ('out_channels', 'out_features', 'num_features',
                     'normalized_shape', 'num_channels'):
            value = getattr(m, attr, None)
            if isinstance(value, int):
                widths.add(value)
            elif isinstance(value, tuple) and len(value) == 1:
                widths.add(int(value[0]))
    return widths


def _describe(output) -> str:
    if torch.is_tensor(output):
        return f'a tensor of shape {tuple(output.shape)}'
    if isinstance(output, (tuple, list)):
        return f'a {type(output).__name__} of ' + ', '.join(
            str(tuple(o.shape)) if torch.is_tensor(o) else type(o).__name__
            for o in output)
    return type(output).__name__


def _is_thw_tuple(output) -> bool:
    return (isinstance(output, (tuple, list)) and len(output) == 2
            and torch.is_tensor(output[0]) and output[0].dim() == 3
            and isinstance(output[1], (tuple, list, torch.Size))
            and all(isinstance(s, int) for s in output[1]))


def detect_layout(output, widths: set, position: str) -> Tuple[str, int]:
    """The layout of a dry run's ``output`` of the sub-module at
    ``position`` and its channel count ``C``: ``('channels', C)`` when
    ``shape[1]`` is one of the sub-module's layer widths; else
    ``('channels_last', C)`` (4D/5D) or ``('tokens', C)`` (3D) when
    ``shape[-1]`` is; ``('tokens_thw', C)`` for an MViT-style tuple.

    Raises:
        ValueError: no axis of the output is the sub-module's channels, or
            the output is no tensor (names the position and the layout).
    """
    if _is_thw_tuple(output):
        channels = output[0].shape[-1]
        if channels in widths:
            return 'tokens_thw', channels
    elif torch.is_tensor(output) and output.dim() in (3, 4, 5):
        if output.shape[1] in widths:
            return 'channels', output.shape[1]
        if output.shape[-1] in widths:
            return ('tokens' if output.dim() == 3 else 'channels_last',
                    output.shape[-1])
    raise ValueError(
        f'{position!r} returns {_describe(output)}: no axis of it is the '
        f'channels of its layers (widths {sorted(widths)}), so an A² block '
        'cannot be placed there; choose a sub-module with a (B, C, *spatial) '
        "output or declare its layout (layout='channels_last', 'tokens', "
        "'tokens_thw', 'clip')")


def wrap_block(block: nn.Module,
               layout: Union[str, Dict],
               clips: Optional[ClipCount] = None) -> nn.Module:
    """``block`` behind the adapter of ``layout``: a name from
    :data:`LAYOUTS` or a dict ``dict(type=name, **options)`` (options of
    :class:`FramesAsClip` or :class:`Tokens`). ``'channels'`` and
    ``'frames'`` need none: the block itself is returned."""
    options = dict(layout) if isinstance(layout, dict) else dict(type=layout)
    name = options.pop('type', None)
    if name not in LAYOUTS:
        raise ValueError(f'unknown layout {layout!r}; layouts: {LAYOUTS}')
    plain = {'channels': None, 'frames': None, 'channels_last': ChannelsLast,
             'tokens_thw': TokensWithShape}
    if name in plain:
        if options:
            raise ValueError(f'layout {name!r} takes no options, got '
                             f'{options!r}')
        adapter = plain[name]
        return block if adapter is None else adapter(block)
    if name == 'clip':
        unknown = set(options) - {'num_segments'}
        if unknown:
            raise ValueError(f'layout clip takes num_segments, got '
                             f'{sorted(unknown)}')
        return FramesAsClip(block, options.get('num_segments'), clips)
    unknown = set(options) - {'cls_tokens', 'frames', 'seq_first'}
    if unknown:
        raise ValueError('layout tokens takes cls_tokens, frames, seq_first; '
                         f'got {sorted(unknown)}')
    return Tokens(block, **options)
