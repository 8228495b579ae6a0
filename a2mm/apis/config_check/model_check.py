"""Step 4 of :func:`~.check.check_config`: build the model, each part
alone first so that an error names the part; then a dry forward of the
backbone on a tiny input (:func:`a2mm.utils.guess_input_shape` from the
data preprocessor's ``format_shape``, the pipeline's ``clip_len`` and
64x64) gives its output channels, compared with ``cls_head.in_channels``.
"""
import traceback
from typing import List

import torch
from mmaction import registry as R
from mmengine.config import Config
from mmengine.registry import DefaultScope

from a2mm.utils.input_shape import guess_input_shape
from .errors import ConfigError

__all__ = ['check_model']


def _describe(exc: BaseException) -> str:
    """``Type: message``, or where it was raised for a bare assertion."""
    if str(exc):
        return f'{type(exc).__name__}: {exc}'
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    return (f'{type(exc).__name__} at {frame.filename}:{frame.lineno}: '
            f'{frame.line}')


def _clip_len(cfg: Config) -> int:
    """The clip length of the first ``SampleFrames`` of a pipeline, or 8."""
    for key in ('train_dataloader', 'test_dataloader', 'val_dataloader'):
        pipeline = ((cfg.get(key) or {}).get('dataset') or {}).get(
            'pipeline') or []
        for step in pipeline:
            if isinstance(step, dict) and 'clip_len' in step:
                return int(step['clip_len'])
    return 8


def check_model(cfg: Config, problems: List[str]) -> None:
    """Build the model; compare the backbone's measured output channels
    with ``cls_head.in_channels``."""
    parts = [(f'model.{key}', cfg.model[key])
             for key in ('backbone', 'neck', 'cls_head')
             if isinstance(cfg.model.get(key), dict)]
    for path, part_cfg in parts + [('model', cfg.model)]:
        try:  # each part alone first, so the error names the part
            with DefaultScope.overwrite_default_scope('mmaction'):
                model = R.MODELS.build(part_cfg)
        except Exception as exc:
            hint = ''
            if path == 'model.backbone' and 'a2' in part_cfg and (
                    'a2' in str(exc).lower() or not str(exc)):
                path, hint = 'model.backbone.a2', ' (where the A² blocks go)'
            raise ConfigError(f'{path}{hint}: building it failed: '
                              f'{_describe(exc)}') from exc
    backbone = getattr(model, 'backbone', None)
    head = getattr(model, 'cls_head', None)
    expected = getattr(head, 'in_channels', None)
    if backbone is None or not isinstance(expected, int) or \
            getattr(model, 'neck', None) is not None:
        return
    fmt = getattr(getattr(model, 'data_preprocessor', None), 'format_shape',
                  'NCTHW')
    if fmt not in ('NCTHW', 'NCHW'):
        return
    shape = guess_input_shape(
        backbone, format_shape=fmt, clip_len=_clip_len(cfg), size=64)
    backbone.eval()
    try:
        with torch.no_grad():
            out = backbone(torch.zeros(shape))
    except Exception:  # a tiny input may not suit every backbone
        return
    if isinstance(out, (tuple, list)) and len(out) == 1:
        out = out[0]
    if not isinstance(out, torch.Tensor):
        return
    if out.shape[1] != expected:
        problems.append(
            f'model.cls_head.in_channels: {expected}, but model.backbone '
            f'({cfg.model.backbone.get("type")}) outputs {out.shape[1]} '
            f'channels (measured by a forward pass on a {tuple(shape)} '
            f'input); set model.cls_head.in_channels={out.shape[1]}')
