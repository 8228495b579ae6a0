"""Training speed and peak memory of whole video models, side by side.

Default: the A²-ResNet-50 Kinetics model against the I3D ResNet-50 and the
non-local I3D ResNet-50 baselines, at the Kinetics config's input size (one
clip of ``clip_len`` x crop from its val pipeline, see
:func:`a2mm.apis.complexity.input_shape_of`)::

    python tools/analysis/benchmark_models.py [CONFIG ...] [--batch 1]
        [--iters 3] [--shape T H W] [--threads 1] [--device cuda]
        [--amp {bf16,fp16}] [--compile]

Speed: one training step = forward to class scores, cross-entropy on random
labels, backward (no optimiser step), in ``train()`` mode, with
``--threads`` intra-op threads (default 1: on a CPU shared with other
processes, OpenMP's per-op barriers then dominate the many small element-wise
ops and the figures measure contention, not the models). The models take
turns step by step (round robin) so that load from other processes on a
shared machine hits them alike; the median step time gives clips/s.
``--device cuda`` runs the same steps on a GPU (timed to a device
synchronisation), ``--amp`` under autocast as MMEngine's
``AmpOptimWrapper`` does.

``--compile``: each model's forward and loss also run through
``torch.compile`` (default inductor backend, as MMEngine's ``compile=True``;
AOTAutograd compiles the backward too), on the same weights and input. The
first compiled step of each model is timed alone and reported as the compile
time (that step minus a steady compiled step); then eager and compiled steps
alternate, round robin over the models, and the table gives both medians and
their ratio. No memory runs with ``--compile``.

Peak memory: on the CPU each model runs one step in a fresh Python process;
the figure is that process's peak resident set size (``ru_maxrss``) during
the step minus its resident size just before it (after building the model and
the input), i.e. what activations, gradients and workspace add (allocator
dependent: differences of a few tens of MiB are noise). On CUDA it is the
growth of the caching allocator's peak allocated bytes during one step,
which is exact. Beside it, the bytes
of the distinct tensors that autograd saves for the backward pass
(``torch.autograd.graph.saved_tensors_hooks``, parameters excluded), which
is exact, and the parameters' own memory.
"""
import argparse
import json
import os
import os.path as osp
import resource
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config

from a2mm.apis.complexity import build_model, input_shape_of

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
AMP_DTYPES = {None: None, 'fp16': torch.float16, 'bf16': torch.bfloat16}
DEFAULT_CONFIGS = [
    osp.join(ROOT, 'configs', name) for name in (
        'a2_r50_kinetics.py', 'i3d_r50_kinetics.py',
        'nl_i3d_r50_kinetics.py')
]


def prepare(config: str,
            batch: int,
            shape: Optional[Sequence[int]],
            device: str = 'cpu') -> Tuple[nn.Module, torch.Tensor,
                                          torch.Tensor]:
    """Model in train mode (randomly initialised: no checkpoint is read),
    an input batch and labels, on ``device``."""
    cfg = Config.fromfile(config)
    cfg.model.backbone.pretrained = None
    view = input_shape_of(cfg, shape)
    model = build_model(cfg).train().to(device)
    inputs = torch.randn((batch, ) + view[1:], device=device)
    labels = torch.randint(
        cfg.model.cls_head.num_classes, (batch, ), device=device)
    return model, inputs, labels


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def model_loss(model: nn.Module) -> LossFn:
    """``(inputs, labels) -> loss``: the model's class scores and their
    cross-entropy, the part of a training step that ``--compile`` compiles.
    """

    def loss(inputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        scores = model(inputs, mode='tensor', stage='head')
        return F.cross_entropy(scores.float(), labels)

    return loss


def train_step(model: nn.Module,
               inputs: torch.Tensor,
               labels: torch.Tensor,
               amp: Optional[torch.dtype] = None,
               loss_fn: Optional[LossFn] = None) -> float:
    """One forward+backward (under autocast to ``amp`` when given, as
    MMEngine's AmpOptimWrapper runs it), through ``loss_fn`` (e.g. a
    compiled :func:`model_loss`) when given; returns its wall time in
    seconds, the device's queued work included."""
    loss_fn = loss_fn or model_loss(model)
    _sync(inputs.device)
    start = time.perf_counter()
    with torch.autocast(inputs.device.type, dtype=amp,
                        enabled=amp is not None):
        loss = loss_fn(inputs, labels)
    loss.backward()
    _sync(inputs.device)
    elapsed = time.perf_counter() - start
    model.zero_grad(set_to_none=True)
    return elapsed


def _rss_bytes() -> int:
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def memory_worker(config: str,
                  batch: int,
                  shape: Optional[Sequence[int]],
                  device: str = 'cpu',
                  amp: Optional[torch.dtype] = None) -> Dict[str, int]:
    """Peak memory growth of one training step, and the bytes of the
    distinct tensors autograd saves for the backward pass (parameters
    excluded), which do not depend on the allocator. On the CPU this runs
    in a fresh process and reads the peak RSS; on CUDA it reads the caching
    allocator's peak of allocated bytes, which is exact in any process."""
    model, inputs, labels = prepare(config, batch, shape, device)
    param_storages = {p.untyped_storage().data_ptr()
                      for p in model.parameters()}
    saved: Dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in param_storages:
            saved[storage.data_ptr()] = storage.nbytes()
        return tensor

    cuda = inputs.device.type == 'cuda'
    if cuda:
        torch.cuda.synchronize(inputs.device)
        torch.cuda.reset_peak_memory_stats(inputs.device)
        before = torch.cuda.memory_allocated(inputs.device)
    else:
        before = _rss_bytes()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        train_step(model, inputs, labels, amp)
    if cuda:
        peak = torch.cuda.max_memory_allocated(inputs.device)
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    return dict(
        step_peak=peak - before, saved=sum(saved.values()), params=params)


def measure_memory(config: str,
                   batch: int,
                   shape: Optional[Sequence[int]],
                   device: str = 'cpu',
                   amp: Optional[str] = None) -> Dict[str, int]:
    if torch.device(device).type == 'cuda':
        return memory_worker(config, batch, shape, device, AMP_DTYPES[amp])
    command = [sys.executable, __file__, '--memory-worker', config,
               '--batch', str(batch), '--threads',
               str(torch.get_num_threads())]
    if shape:
        command += ['--shape'] + [str(s) for s in shape]
    if amp:
        command += ['--amp', amp]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f'memory run of {config} failed:\n'
                           f'{result.stderr[-2000:]}')
    return json.loads(result.stdout.strip().splitlines()[-1])


def benchmark(configs: Sequence[str],
              batch: int,
              iters: int,
              warmup: int,
              shape: Optional[Sequence[int]],
              memory: bool = True,
              device: str = 'cpu',
              amp: Optional[str] = None) -> List[Dict]:
    prepared = [prepare(c, batch, shape, device) for c in configs]
    times: List[List[float]] = [[] for _ in configs]
    for it in range(warmup + iters):
        for i, (model, inputs, labels) in enumerate(prepared):
            elapsed = train_step(model, inputs, labels, AMP_DTYPES[amp])
            if it >= warmup:
                times[i].append(elapsed)
    rows = []
    for config, (model, inputs, _), step_times in zip(configs, prepared,
                                                      times):
        median = statistics.median(step_times)
        rows.append(
            dict(
                config=osp.relpath(config, ROOT),
                input=tuple(inputs.shape),
                step_s=median,
                clips_per_s=batch / median,
                times=step_times))
    del prepared
    if torch.device(device).type == 'cuda':
        torch.cuda.empty_cache()
    if memory:
        for row, config in zip(rows, configs):
            row.update(measure_memory(config, batch, shape, device, amp))
    return rows


def benchmark_compile(configs: Sequence[str],
                      *,
                      batch: int,
                      iters: int,
                      warmup: int,
                      shape: Optional[Sequence[int]],
                      device: str = 'cpu',
                      amp: Optional[str] = None) -> List[Dict]:
    """Eager against ``torch.compile``d training steps of each model, on
    the same weights and input (see the module docstring)."""
    dtype = AMP_DTYPES[amp]
    prepared = [prepare(c, batch, shape, device) for c in configs]
    compiled = [torch.compile(model_loss(model)) for model, _, _ in prepared]
    first = []
    for config, (model, inputs, labels), fn in zip(configs, prepared,
                                                    compiled):
        print(f'compiling {osp.relpath(config, ROOT)} ...', flush=True)
        first.append(train_step(model, inputs, labels, dtype, fn))
    eager: List[List[float]] = [[] for _ in configs]
    comp: List[List[float]] = [[] for _ in configs]
    for it in range(warmup + iters):
        for i, ((model, inputs, labels), fn) in enumerate(
                zip(prepared, compiled)):
            eager_s = train_step(model, inputs, labels, dtype)
            comp_s = train_step(model, inputs, labels, dtype, fn)
            if it >= warmup:
                eager[i].append(eager_s)
                comp[i].append(comp_s)
    rows = []
    for config, (_, inputs, _), first_s, eager_t, comp_t in zip(
            configs, prepared, first, eager, comp):
        comp_s = statistics.median(comp_t)
        rows.append(
            dict(
                config=osp.relpath(config, ROOT),
                input=tuple(inputs.shape),
                eager_s=statistics.median(eager_t),
                compiled_s=comp_s,
                first_compiled_s=first_s,
                compile_s=first_s - comp_s,
                eager_times=eager_t,
                compiled_times=comp_t))
    return rows


def report_compile(rows: Sequence[Dict], device: str = 'cpu',
                   amp: Optional[str] = None) -> str:
    ref = rows[0]
    ref_name = osp.basename(ref['config'])
    lines = [
        '| model | input (N, V, C, T, H, W) | eager fwd+bwd s/step | '
        'compiled fwd+bwd s/step | compiled speed / eager speed | '
        'compile s | first compiled step s |',
        '|---|---|---:|---:|---:|---:|---:|'
    ]
    for row in rows:
        lines.append(
            f'| {row["config"]} | {row["input"]} | {row["eager_s"]:.4g} | '
            f'{row["compiled_s"]:.4g} | '
            f'{row["eager_s"] / row["compiled_s"]:.3f} | '
            f'{row["compile_s"]:.1f} | {row["first_compiled_s"]:.1f} |')
    lines.append('')
    for row in rows[1:]:
        name = osp.basename(row['config'])
        lines.append(
            f'{ref_name} speed / {name} speed = '
            f'{row["eager_s"] / ref["eager_s"]:.3f} eager, '
            f'{row["compiled_s"] / ref["compiled_s"]:.3f} compiled')
    step_times = '; '.join(
        f'{osp.basename(r["config"])} eager ' +
        ' '.join(f'{t:.3g}' for t in r['eager_times']) + ' compiled ' +
        ' '.join(f'{t:.3g}' for t in r['compiled_times']) for r in rows)
    lines.append(f'(torch {torch.__version__}, torch.compile default '
                 f'(inductor), {describe_device(device, amp)}; step times: '
                 f'{step_times})')
    lines.append('compile s: the first compiled step (tracing, inductor '
                 'code generation and C++ builds, then the step) minus the '
                 'median compiled step.')
    return '\n'.join(lines)


def describe_device(device: str, amp: Optional[str]) -> str:
    precision = f'autocast {amp}' if amp else 'float32'
    if torch.device(device).type == 'cuda':
        return (f'{torch.cuda.get_device_name(device)}, {precision}, load '
                f'average {os.getloadavg()[0]:.1f}')
    return (f'CPU, {precision}, {torch.get_num_threads()} threads, load '
            f'average {os.getloadavg()[0]:.1f}')


def report(rows: Sequence[Dict], device: str = 'cpu',
           amp: Optional[str] = None) -> str:
    ref = rows[0]
    lines = [
        '| model | input (N, V, C, T, H, W) | fwd+bwd s/step (median) | '
        f'clips/s | speed vs {osp.basename(ref["config"])} | '
        'peak step memory (MiB) | saved for backward (MiB) | '
        'params (MiB) |',
        '|---|---|---:|---:|---:|---:|---:|---:|'
    ]
    for row in rows:
        memory = ' | '.join(
            f'{row[key] / 2**20:.0f}' if key in row else '-'
            for key in ('step_peak', 'saved', 'params'))
        lines.append(
            f'| {row["config"]} | {row["input"]} | {row["step_s"]:.4g} | '
            f'{row["clips_per_s"]:.3f} | '
            f'{ref["step_s"] / row["step_s"]:.2f}x | {memory} |')
    lines.append('')
    for row in rows[1:]:
        lines.append(f'{osp.basename(ref["config"])} speed / '
                     f'{osp.basename(row["config"])} speed = '
                     f'{row["step_s"] / ref["step_s"]:.3f}')
    step_times = '; '.join(
        f'{osp.basename(r["config"])} ' + ' '.join(f'{t:.3g}'
                                                  for t in r['times'])
        for r in rows)
    lines.append(f'(torch {torch.__version__}, '
                 f'{describe_device(device, amp)}; step times: {step_times})')
    if torch.device(device).type == 'cuda':
        peak = ('peak growth of allocated CUDA memory during one training '
                'step (torch.cuda.max_memory_allocated)')
    else:
        peak = ('peak RSS growth of one training step in a fresh process '
                '(ru_maxrss minus RSS before the step)')
    lines.append(f'Peak step memory: {peak}. Saved for backward: distinct '
                 'tensors autograd keeps for the backward pass '
                 '(saved_tensors_hooks), parameters excluded.')
    return '\n'.join(lines)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'configs',
        nargs='*',
        default=DEFAULT_CONFIGS,
        help='configs, the first is the reference (default: A2-R50, I3D-R50,'
        ' NL-I3D-R50 Kinetics)')
    parser.add_argument('--batch', type=int, default=1, help='clips/step')
    parser.add_argument('--iters', type=int, default=3, help='timed steps')
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument(
        '--shape', type=int, nargs='+', help='T H W (default: config)')
    parser.add_argument(
        '--threads', type=int, default=1,
        help='torch intra-op threads (default: 1)')
    parser.add_argument(
        '--device', default='cpu', help='cpu (default) or cuda[:i]')
    parser.add_argument(
        '--amp', choices=sorted(k for k in AMP_DTYPES if k),
        help='run the steps under autocast to this dtype (default: float32)')
    parser.add_argument(
        '--no-memory', action='store_true', help='skip the memory runs')
    parser.add_argument(
        '--compile', action='store_true',
        help='time torch.compile(d) against eager steps (no memory runs)')
    parser.add_argument('--memory-worker', metavar='CONFIG',
                        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> List[Dict]:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if torch.device(args.device).type == 'cuda' and \
            not torch.cuda.is_available():
        raise SystemExit(f'--device {args.device}: CUDA is not available '
                         f'in this torch build ({torch.__version__})')
    if args.memory_worker:
        print(json.dumps(memory_worker(args.memory_worker, args.batch,
                                       args.shape, 'cpu',
                                       AMP_DTYPES[args.amp])))
        return []
    if args.compile:
        rows = benchmark_compile(
            args.configs, batch=args.batch, iters=args.iters,
            warmup=args.warmup, shape=args.shape, device=args.device,
            amp=args.amp)
        print(report_compile(rows, args.device, args.amp))
        return rows
    rows = benchmark(args.configs, args.batch, args.iters, args.warmup,
                     args.shape, not args.no_memory, args.device, args.amp)
    print(report(rows, args.device, args.amp))
    return rows


if __name__ == '__main__':
    main()
