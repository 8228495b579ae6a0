"""Parameters and FLOPs of a config's recognizer, with MMEngine's complexity
analysis (``mmengine.analysis.FlopAnalyzer``, a ``torch.jit.trace`` of the
recognizer from input to class scores).

The input is one view: ``(1, 1, 3, T, H, W)`` for 3D recognizers (NCTHW),
``(1, 1, 3, H, W)`` for 2D ones (NCHW). Its size is read from the config's
validation pipeline (``SampleFrames.clip_len``, ``CenterCrop.crop_size``);
a config without one (an image model base) uses 224x224, or pass ``shape``.

Counting convention (MMEngine's, after fvcore): one fused multiply-add is
one FLOP; element-wise ops (softmax, ReLU, pooling) are not counted. MMEngine
has no handle for ``aten::baddbmm`` (used by the A² block's last product), so
one is added here with the same convention as ``aten::bmm``.

Used by ``tools/analysis/get_flops.py`` (the command line),
``benchmark_models.py``, ``efficiency_summary.py`` and ``ablation_study.py``.
"""
from typing import Any, List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.analysis.jit_handles import get_shape
from mmengine.config import Config
from mmengine.registry import init_default_scope

from a2mm.utils.input_shape import guess_input_shape
from .export import ScoresWrapper

__all__ = [
    'Complexity', 'baddbmm_flop_jit', 'input_shape_of', 'build_model',
    'count_flops', 'measure', 'markdown_table'
]

IMAGE_SIZE = 224  # ImageNet single centre crop (docs/paper.md)


class Complexity(NamedTuple):
    """What :func:`measure` returns for one config."""
    config: str
    input_shape: Tuple[int, ...]
    params: int
    flops: int


def baddbmm_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """FLOPs of ``baddbmm(input, b1, b2)``: those of ``bmm(b1, b2)``,
    ``B * n * k * m`` for (B, n, k) @ (B, k, m); the add is element-wise and
    not counted, as for ``aten::bmm``/``aten::addmm``."""
    batch, rows, inner = get_shape(inputs[1])
    cols = get_shape(inputs[2])[-1]
    return batch * rows * inner * cols


def _find(pipeline: Sequence[dict], type_name: str) -> Optional[dict]:
    return next((t for t in pipeline if t.get('type') == type_name), None)


def input_shape_of(cfg: Config,
                   shape: Optional[Sequence[int]] = None) -> Tuple[int, ...]:
    """One view's input shape for ``cfg``'s recognizer (see module doc):
    ``(1, 1, 3) + shape``, ``shape`` (T, H, W) or (H, W) read from the val
    pipeline when not given.

    Raises:
        ValueError: the format is neither NCTHW nor NCHW, a clip model's
            config has no val ``SampleFrames``, or ``shape`` does not fit.
    """
    fmt = cfg.model.data_preprocessor.get('format_shape', 'NCHW')
    if fmt not in ('NCTHW', 'NCHW'):
        raise ValueError(f'format_shape {fmt!r} is not supported (NCTHW or '
                         'NCHW)')
    if shape is None:
        pipeline = cfg.get('val_dataloader', {}).get('dataset', {}).get(
            'pipeline', [])
        sample, crop = _find(pipeline, 'SampleFrames'), _find(
            pipeline, 'CenterCrop')
        size = crop['crop_size'] if crop else IMAGE_SIZE
        size = (size, size) if isinstance(size, int) else tuple(size)[::-1]
        if fmt == 'NCTHW':
            if sample is None:
                raise ValueError(
                    'cannot read the clip length: the config has no '
                    'val_dataloader SampleFrames; pass --shape T H W')
            shape = (sample['clip_len'], ) + size
        else:
            shape = size
    shape = tuple(int(s) for s in shape)
    if len(shape) != (3 if fmt == 'NCTHW' else 2):
        raise ValueError(f'--shape {shape} does not fit format {fmt} '
                         '(T H W for NCTHW, H W for NCHW)')
    clip_len, size = (shape[0], shape[1:]) if fmt == 'NCTHW' else (1, shape)
    # one view (1, ...) of the backbone's (B=1, C=3, [T,] H, W)
    return (1, ) + guess_input_shape(
        format_shape=fmt, clip_len=clip_len, size=size)


def build_model(cfg: Config) -> nn.Module:
    """The recognizer of ``cfg``, built through the registry, eval mode."""
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    return MODELS.build(cfg.model).eval()


def measure(config: str,
            shape: Optional[Sequence[int]] = None,
            cfg_options: Optional[dict] = None) -> Complexity:
    """Parameters and FLOPs of ``config``'s recognizer on one view."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    full_shape = input_shape_of(cfg, shape)
    model = build_model(cfg)
    params = parameter_count(model)['']
    flops = count_flops(model, torch.zeros(full_shape))
    return Complexity(config, full_shape, params, flops)


def count_flops(model: nn.Module, inputs: torch.Tensor) -> int:
    """FLOPs of a built recognizer (eval mode) from ``inputs`` to class
    scores (see the module doc for the convention)."""
    analyzer = FlopAnalyzer(ScoresWrapper(model), (inputs, ))
    analyzer.set_op_handle('aten::baddbmm', baddbmm_flop_jit)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    analyzer.tracer_warnings('none')
    with torch.no_grad():
        return analyzer.total()


def markdown_table(rows: Sequence[Complexity]) -> str:
    """``rows`` as a markdown table: config, input, params (M), GFLOPs."""
    lines = [
        '| config | input (N, V, C, [T,] H, W) | params (M) | GFLOPs |',
        '|---|---|---:|---:|'
    ]
    for row in rows:
        lines.append(f'| {row.config} | {tuple(row.input_shape)} | '
                     f'{row.params / 1e6:.2f} | {row.flops / 1e9:.2f} |')
    return '\n'.join(lines)
