"""Export a recognizer (e.g. an A² model) to ONNX, check it with
onnxruntime, and optionally save it as a PyTorch program.

The exporters are those the installed torch recommends (see
:mod:`a2mm.apis.export`): ONNX through ``torch.export`` and the dynamo
exporter (``onnxscript`` needed), and ``--pt2`` for a ``torch.export``
``ExportedProgram``; on a torch without ``torch.export``, the
TorchScript-based ONNX exporter and ``--torchscript`` (``torch.jit.trace``).

The graph maps the preprocessed clip batch to the head's class scores (see
:mod:`a2mm.apis.export`): input ``(B, V, C, T, H, W)`` for 3D recognizers,
``(B, S, C, H, W)`` for 2D ones; output ``(B*V, num_classes)``. The batch
axis is dynamic unless ``--static-batch``. The parity check feeds the same
random inputs (batch 1 and 2) to PyTorch and onnxruntime and prints the
largest absolute difference of the scores.

Example::

    python tools/deployment/export_onnx.py configs/a2_r50_kinetics.py \\
        ckpt.pth --shape 1 1 3 8 224 224 --out a2_r50.onnx --pt2 a2_r50.pt2
"""
import argparse
import sys
from typing import List, Optional

import numpy as np
import torch
from mmengine.config import DictAction

from a2mm.apis import (ScoresWrapper, export_onnx, export_program,
                       init_model, onnx_max_abs_diff, program_max_abs_diff,
                       torchscript_max_abs_diff, trace_torchscript)
from a2mm.apis.export import ONNX_EXPORTERS, has_torch_export


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export a recognizer to ONNX (and a PyTorch program) '
        'with a parity check')
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        default=None,
        help='checkpoint file (default: the initial weights)')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        default=[1, 1, 3, 8, 224, 224],
        help='input shape: B V C T H W (3D) or B S C H W (2D)')
    parser.add_argument('--out', default='model.onnx', help='ONNX file')
    parser.add_argument('--opset', type=int, default=18, help='ONNX opset')
    parser.add_argument(
        '--exporter',
        choices=ONNX_EXPORTERS,
        default='auto',
        help='ONNX exporter: dynamo (torch.export-based, needs onnxscript), '
        'torchscript (deprecated since torch 2.9), or auto: dynamo where '
        'torch has it')
    parser.add_argument(
        '--static-batch',
        action='store_true',
        help='fix the batch size to --shape[0]')
    parser.add_argument(
        '--softmax',
        action='store_true',
        help='export probabilities instead of raw scores')
    parser.add_argument(
        '--pt2',
        default=None,
        help='also save a torch.export ExportedProgram here (.pt2)')
    parser.add_argument(
        '--torchscript',
        default=None,
        help='also write a torch.jit.trace TorchScript file here (only on a '
        'torch without torch.export; use --pt2 otherwise)')
    parser.add_argument(
        '--tolerance',
        type=float,
        default=1e-4,
        help='fail (exit 1) if the max abs difference exceeds this')
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='seed of the random check inputs (and of the initial weights '
        'when no checkpoint is given)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if len(args.shape) not in (5, 6):
        raise ValueError('--shape needs 5 (B S C H W) or 6 (B V C T H W) '
                         f'numbers, got {args.shape}')
    if args.pt2 and not has_torch_export():
        raise ValueError(f'--pt2: torch {torch.__version__} has no '
                         'torch.export; use --torchscript')
    if args.torchscript and has_torch_export():
        raise ValueError(f'--torchscript: torch {torch.__version__} '
                         'deprecates torch.jit; use --pt2 for a '
                         'torch.export ExportedProgram')
    # Seeds the initial weights (no checkpoint) and the check inputs, so
    # that a run is reproducible.
    torch.manual_seed(args.seed)
    recognizer = init_model(args.config, args.checkpoint, 'cpu',
                            args.cfg_options)
    model = ScoresWrapper(recognizer, softmax=args.softmax).eval()
    gen = torch.Generator().manual_seed(args.seed)
    example = torch.randn(args.shape, generator=gen)
    # Check at the export batch size and, when dynamic, at another one.
    checks = [torch.randn(args.shape, generator=gen)]
    if not args.static_batch:
        checks.append(
            torch.randn([args.shape[0] + 1] + args.shape[1:], generator=gen))

    exporter = export_onnx(
        model,
        example,
        args.out,
        args.opset,
        dynamic_batch=not args.static_batch,
        exporter=args.exporter)
    diff, scores = onnx_max_abs_diff(model, args.out, checks)
    print(f'ONNX: wrote {args.out} ({exporter} exporter, opset {args.opset}); '
          f'output {tuple(scores.shape)}; '
          f'onnxruntime vs PyTorch max abs diff: {diff:.3e} '
          f'(batch sizes {[tuple(x.shape)[0] for x in checks]}; '
          f'largest |score| {np.abs(scores).max():.3g})')
    worst = diff
    if args.pt2:
        export_program(
            model, example, args.pt2, dynamic_batch=not args.static_batch)
        pt2_diff = program_max_abs_diff(model, args.pt2, checks)
        print(f'ExportedProgram: wrote {args.pt2}; max abs diff: '
              f'{pt2_diff:.3e}')
        worst = max(worst, pt2_diff)
    if args.torchscript:
        trace_torchscript(model, example, args.torchscript)
        ts_diff = torchscript_max_abs_diff(model, args.torchscript, checks)
        print(f'TorchScript: wrote {args.torchscript}; max abs diff: '
              f'{ts_diff:.3e}')
        worst = max(worst, ts_diff)
    if worst > args.tolerance:
        print(f'FAILED: max abs diff {worst:.3e} > tolerance '
              f'{args.tolerance:.1e}')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
