"""The input shape a backbone takes: one rule for every dry or measuring run.

Used by :class:`~a2mm.models.backbones.A2Inserted` (the dry run that finds
the channels of the A² blocks), by the config check (a forward pass that
measures the backbone's output channels) and by the FLOP count
(:mod:`a2mm.apis.complexity`). Each passes the sizes it needs; the layout,
the channels and the batch follow the rules of :func:`guess_input_shape`.
"""
from typing import Optional, Sequence, Tuple, Union

import torch.nn as nn

__all__ = ['guess_input_shape', 'LAYOUTS']

#: input layouts: MMAction2's ``format_shape`` names (``'NCTHW'`` clips,
#: ``'NCHW'`` frames), and ``'NCL'`` sequences (PyTorch's ``Conv1d`` input)
LAYOUTS = ('NCTHW', 'NCHW', 'NCL')
_CONV_LAYOUTS = ((nn.Conv3d, 'NCTHW'), (nn.Conv2d, 'NCHW'),
                 (nn.Conv1d, 'NCL'))
#: Default clip: C3D's fixed input (16x112x112), which also suits SlowFast
#: (T divisible by its resample rate, 8) and X3D.
_CLIP_LEN, _SIZE, _LENGTH = 16, 112, 64
#: MMAction2 backbones that take (N, C, T, H, W) clips although their first
#: convolution is a Conv2d: they fold T into the batch inside (C2D's
#: ``_convert_to_2d``, TimeSformer's patch embedding).
_CLIP_INPUT = ('C2D', 'TimeSformer')


def _class_names(backbone: nn.Module) -> set:
    return {cls.__name__ for cls in type(backbone).__mro__}


def _native_clip(backbone: nn.Module
                 ) -> Tuple[Optional[int], Optional[int]]:
    """``(T, H)`` a transformer backbone is built for (its position
    embeddings fix them), read from MMAction2 1.x attributes; ``None`` where
    the backbone takes any size."""
    names = _class_names(backbone)
    if 'TimeSformer' in names:
        return backbone.num_frames, backbone.patch_embed.img_size[0]
    if 'VisionTransformer' in names and hasattr(backbone, 'grid_size'):
        # pos_embed: (1, T/tubelet * grid^2, C) (VideoMAE)
        tubelet = backbone.patch_embed.projection.kernel_size[0]
        grid = backbone.grid_size[0]
        positions = backbone.pos_embed.shape[1]
        return positions // grid**2 * tubelet, grid * backbone.patch_size
    if 'MViT' in names:
        t, h, _ = backbone.patch_resolution
        stride = backbone.patch_embed.projection.stride
        return t * stride[0], h * stride[1]
    if 'UniFormerV2' in names:
        return (backbone.transformer.T * backbone.conv1.stride[0],
                backbone.input_resolution)
    return None, None


def _first_conv(backbone: nn.Module) -> Optional[nn.Module]:
    """The first ``Conv1d``/``Conv2d``/``Conv3d`` of ``backbone`` (in
    ``modules()`` order), or None."""
    return next((m for m in backbone.modules()
                 if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d))), None)


def guess_input_shape(backbone: Optional[nn.Module] = None,
                      *,
                      format_shape: Optional[str] = None,
                      clip_len: Optional[int] = None,
                      size: Optional[Union[int, Sequence[int]]] = None,
                      length: int = _LENGTH) -> Tuple[int, ...]:
    """A backbone input: ``(B, C, T, H, W)``, ``(B, C, H, W)`` or
    ``(B, C, L)``.

    Args:
        backbone: the backbone that will take the input; None when only the
            layout is known (``C`` is then 3, ``B`` 1).
        format_shape: the layout, one of :data:`LAYOUTS` (e.g. the model's
            ``data_preprocessor.format_shape``). Default: that of the
            backbone's first convolution (``Conv3d`` -> ``'NCTHW'``,
            ``Conv2d`` -> ``'NCHW'``, ``Conv1d`` -> ``'NCL'``), except for
            C2D and TimeSformer, which fold clips into frames inside
            (``'NCTHW'``).
        clip_len: ``T`` of an ``'NCTHW'`` input. Default: the clip a
            transformer's position embeddings are built for (TimeSformer,
            VideoMAE's ViT, MViT, UniFormerV2), else 16.
        size: ``(H, W)`` (or one int for both) of ``'NCTHW'`` and
            ``'NCHW'`` inputs. Default: as for ``clip_len``, else 112.
        length: ``L`` of an ``'NCL'`` input. Default: 64.

    ``C``: the ``in_channels`` of the backbone's first convolution, else the
    backbone's ``in_channels`` attribute (when an int), else 3. ``B``:
    ``backbone.num_segments`` for ``'NCHW'`` (TSM and TIN shift features
    between the frames of one clip, so they need whole clips), else 1.

    Raises:
        ValueError: the layout is not one of :data:`LAYOUTS`, or it is not
            given and the backbone has no convolution to read it from.
    """
    conv = None if backbone is None else _first_conv(backbone)
    if format_shape is None:
        if conv is None:
            what = 'without a backbone or a format_shape' \
                if backbone is None else \
                f'for {type(backbone).__name__} (no Conv1d/2d/3d found)'
            raise ValueError(f'cannot guess an input shape {what}')
        format_shape = 'NCTHW' \
            if _class_names(backbone) & set(_CLIP_INPUT) else \
            next(fmt for cls, fmt in _CONV_LAYOUTS if isinstance(conv, cls))
    native_len, native_size = (None, None) if backbone is None \
        else _native_clip(backbone)
    clip_len = clip_len or native_len or _CLIP_LEN
    size = size or native_size or _SIZE
    if format_shape not in LAYOUTS:
        raise ValueError(f'format_shape {format_shape!r} has no input shape '
                         f'guess; known layouts: {LAYOUTS}')
    if conv is not None:
        channels = conv.in_channels
    else:
        channels = getattr(backbone, 'in_channels', 3)
        channels = channels if isinstance(channels, int) else 3
    height, width = (size, size) if isinstance(size, int) else tuple(size)
    if format_shape == 'NCTHW':
        return (1, channels, int(clip_len), int(height), int(width))
    if format_shape == 'NCHW':
        segments = getattr(backbone, 'num_segments', 1)
        return (segments, channels, int(height), int(width))
    return (1, channels, int(length))
