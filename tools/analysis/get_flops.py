"""Parameters and FLOPs of one or more configs, with MMEngine's complexity
analysis (``mmengine.analysis.FlopAnalyzer``, a ``torch.jit.trace`` of the
recognizer from input to class scores).

Usage::

    python tools/analysis/get_flops.py configs/a2_r50_kinetics.py \\
        configs/i3d_r50_kinetics.py [--shape 8 224 224]

The input is one view: ``(1, 1, 3, T, H, W)`` for 3D recognizers (NCTHW),
``(1, 1, 3, H, W)`` for 2D ones (NCHW). Its size is read from the config's
validation pipeline (``SampleFrames.clip_len``, ``CenterCrop.crop_size``);
a config without one (an image model base) uses 224x224, or pass
``--shape``.

Counting convention (MMEngine's, after fvcore): one fused multiply-add is
one FLOP; element-wise ops (softmax, ReLU, pooling) are not counted. MMEngine
has no handle for ``aten::baddbmm`` (used by the A² block's last product), so
one is added here with the same convention as ``aten::bmm``.
"""
import argparse
import os.path as osp
import sys
from typing import Any, List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.analysis.jit_handles import get_shape
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))
import a2mm  # noqa: E402,F401  (registers a2mm's modules)
from a2mm.apis.export import ScoresWrapper  # noqa: E402
from mmaction.registry import MODELS  # noqa: E402

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
    """One view's input shape for ``cfg``'s recognizer (see module doc)."""
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
    return (1, 1, 3) + shape


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
    analyzer = FlopAnalyzer(ScoresWrapper(model),
                            (torch.zeros(full_shape), ))
    analyzer.set_op_handle('aten::baddbmm', baddbmm_flop_jit)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    analyzer.tracer_warnings('none')
    with torch.no_grad():
        flops = analyzer.total()
    return Complexity(config, full_shape, params, flops)


def markdown_table(rows: Sequence[Complexity]) -> str:
    lines = [
        '| config | input (N, V, C, [T,] H, W) | params (M) | GFLOPs |',
        '|---|---|---:|---:|'
    ]
    for row in rows:
        lines.append(f'| {row.config} | {tuple(row.input_shape)} | '
                     f'{row.params / 1e6:.2f} | {row.flops / 1e9:.2f} |')
    return '\n'.join(lines)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Parameters and FLOPs of configs (MMEngine analysis)')
    parser.add_argument('configs', nargs='+', help='config file(s)')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        help='input size of one view: T H W (3D models) or H W (2D); '
        'default: from the config\'s val pipeline')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, as in tools/train.py')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> List[Complexity]:
    args = parse_args(argv)
    rows = [measure(c, args.shape, args.cfg_options) for c in args.configs]
    print(markdown_table(rows))
    print('\nFLOPs: MMEngine FlopAnalyzer, one multiply-add = 1 FLOP, '
          'element-wise ops not counted, one view per row.')
    return rows


if __name__ == '__main__':
    main()
