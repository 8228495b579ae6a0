"""Speed and memory of A2Block against its peers, side by side in one run.

For each input size and channel count, measures forward+backward time
(float32, batch 1) and peak memory of:

* ``A2Block`` (a2mm; m = n = C/4, the paper's ablation setting),
* mmcv ``NonLocal3d`` (embedded gaussian, reduction 2),
* mmcv ``ContextBlock`` (GCNet, ratio 1/16, GCNet's default),
* the *floor*: one matrix product with the same FLOPs as A2Block's
  projections (input C -> m+2n and output m -> C, i.e. an (N, C) x
  (C, 2m+2n) product), forward and backward.

Timing: the modules are measured round-robin, ``--repeats`` rounds, and the
best time of each is kept, so a busy machine slows all of them alike.
Memory: each (module, size) runs in a fresh subprocess (Linux): after one
warm-up step, the peak resident set size is reset (``/proc/self/clear_refs``)
and peak memory is its rise (``VmHWM`` over ``VmRSS``) during one
forward+backward, over what the input, the output gradient and the weights
already took. glibc's mmap threshold is fixed at 64 KiB there, so that freed
tensors leave the resident set at once for every module alike. With
``--device cuda`` the steps run on the GPU (each timed to a device
synchronisation) and peak memory is the caching allocator's peak of
allocated bytes during one step, in the same process (exact).

Usage::

    python tools/analysis/benchmark_block.py
    python tools/analysis/benchmark_block.py --channels 512 --sizes 8x28x28
    python tools/analysis/benchmark_block.py --device cuda
"""
import argparse
import json
import os
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

SIZES = ['4x14x14', '8x14x14', '8x28x28', '16x28x28', '16x56x56']
MODULES = ['A2Block', 'NonLocal3d', 'ContextBlock', 'floor']


class MatmulFloor(nn.Module):
    """One (N, C) x (C, 2m+2n) product: the FLOPs of A2Block's
    projections, without anything else."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        m = n = channels // 4
        self.weight = nn.Parameter(
            torch.randn(2 * m + 2 * n, channels) / channels**0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight)


class ContextBlock3d(nn.Module):
    """mmcv's ContextBlock is written for (B, C, H, W); its pooling and
    transform act on all positions at once, so a clip viewed as
    (B, C, T*H, W) gives exactly the 3D global context block."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        from mmcv.cnn import ContextBlock
        self.block = ContextBlock(channels, ratio=1. / 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        return self.block(x.reshape(b, c, t * h, w)).reshape(x.shape)


def build(name: str, channels: int, impl: str = 'auto') -> nn.Module:
    """The module ``name``; ``impl`` is A2Block's training pass."""
    import a2mm  # noqa: F401  (registers A2Block)
    from mmaction.registry import MODELS
    from mmcv.cnn import NonLocal3d

    if name == 'A2Block':
        block = MODELS.build(
            dict(type='A2Block', in_channels=channels, impl=impl))
        nn.init.normal_(block.out_proj_weight, std=0.01)  # not identity
        return block
    if name == 'NonLocal3d':
        return NonLocal3d(channels, reduction=2, mode='embedded_gaussian')
    if name == 'ContextBlock':
        return ContextBlock3d(channels)
    if name == 'floor':
        return MatmulFloor(channels)
    raise ValueError(f'unknown module {name!r}, expected one of {MODULES}')


def make_input(name: str,
               channels: int,
               size: str,
               device: str = 'cpu') -> Tuple[torch.Tensor, torch.Tensor]:
    """The input and a dense gradient for the output (as in training)."""
    t, h, w = (int(v) for v in size.split('x'))
    if name == 'floor':
        m = n = channels // 4
        return (torch.randn(t * h * w, channels, device=device,
                            requires_grad=True),
                torch.randn(t * h * w, 2 * m + 2 * n, device=device))
    x = torch.randn(1, channels, t, h, w, device=device, requires_grad=True)
    return x, torch.randn_like(x)


def step(module: nn.Module, inputs: Tuple[torch.Tensor,
                                          torch.Tensor]) -> None:
    """One forward+backward, finished (CUDA work synchronised)."""
    x, grad = inputs
    module(x).backward(grad)
    x.grad = None
    module.zero_grad(set_to_none=True)
    if x.is_cuda:
        torch.cuda.synchronize(x.device)


def nonlocal_bytes(channels: int, size: str) -> int:
    """A rough lower bound of NonLocal3d's fwd+bwd memory: the N x N
    attention matrix, its softmax and their gradients."""
    t, h, w = (int(v) for v in size.split('x'))
    return 4 * 4 * (t * h * w)**2


def measure_memory(name: str, channels: int, size: str,
                   device: str = 'cpu', impl: str = 'auto') -> float:
    """Peak memory of one fwd+bwd in MiB: on the CPU in a fresh
    subprocess, on CUDA from the caching allocator's peak (exact)."""
    if torch.device(device).type == 'cuda':
        return cuda_memory(name, channels, size, device, impl)
    # A fixed mmap threshold: every allocation of 64 KiB or more gets its own
    # mapping and is returned on free, so RSS follows live tensor memory
    # instead of glibc's heap growth heuristics.
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='65536')
    out = subprocess.run(
        [sys.executable, __file__, '--memory-probe', name,
         str(channels), size, impl],
        capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])['mib']


def _status_mib(key: str) -> float:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f'{key} not in /proc/self/status')


def memory_probe(name: str, channels: int, size: str, impl: str) -> None:
    torch.manual_seed(0)
    module = build(name, channels, impl)
    inputs = make_input(name, channels, size)
    step(module, inputs)  # warm-up: one-time library workspaces
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')  # reset the peak resident set size (VmHWM)
    before = _status_mib('VmRSS')
    step(module, inputs)
    print(json.dumps({'mib': _status_mib('VmHWM') - before}))


def cuda_memory(name: str, channels: int, size: str, device: str,
                impl: str = 'auto') -> float:
    """Peak growth of allocated CUDA memory during one fwd+bwd, in MiB,
    over the module, its input and the output gradient."""
    torch.manual_seed(0)
    module = build(name, channels, impl).to(device)
    inputs = make_input(name, channels, size, device)
    step(module, inputs)  # warm-up
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    step(module, inputs)
    mib = (torch.cuda.max_memory_allocated(device) - before) / 2**20
    del module, inputs
    torch.cuda.empty_cache()
    return mib


def time_round_robin(cases: Dict[str, Tuple[nn.Module, torch.Tensor]],
                     repeats: int) -> Dict[str, float]:
    best = {name: float('inf') for name in cases}
    for module, x in cases.values():  # warm-up
        step(module, x)
    for _ in range(repeats):
        for name, (module, x) in cases.items():
            start = time.perf_counter()
            step(module, x)
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def fmt_ratio(num: Optional[float], den: Optional[float]) -> str:
    if num is None or den is None or den == 0:
        return '-'
    return f'{num / den:.1f}x'


def run(channels_list: List[int], sizes: List[str], repeats: int,
        memory: bool, memory_budget_gib: float,
        out: Callable[[str], None] = print,
        device: str = 'cpu',
        impl: str = 'auto') -> List[dict]:
    rows = []
    for channels in channels_list:
        for size in sizes:
            names = [
                name for name in MODULES
                if name != 'NonLocal3d' or nonlocal_bytes(channels, size) <
                memory_budget_gib * 2**30
            ]
            torch.manual_seed(0)
            cases = {
                name: (build(name, channels, impl).to(device),
                       make_input(name, channels, size, device))
                for name in names
            }
            times = time_round_robin(cases, repeats)
            del cases
            if torch.device(device).type == 'cuda':
                torch.cuda.empty_cache()
            mems = {
                name: measure_memory(name, channels, size, device, impl)
                if memory else None
                for name in names
            }
            rows.append(dict(channels=channels, size=size, times=times,
                             mems=mems))
    header = ('| C | T×H×W | A2Block ms | NonLocal3d ms | ContextBlock ms | '
              'floor ms | NL/A2 time | A2/floor time | A2 MiB | NL MiB | '
              'GC MiB | A2/NL memory |')
    out(header)
    out('|' + '---|' * (header.count('|') - 1))
    for row in rows:
        t, mem = row['times'], row['mems']

        def ms(name: str) -> str:
            return f'{t[name] * 1e3:.1f}' if name in t else 'skipped (N²)'

        def mib(name: str) -> str:
            value = mem.get(name)
            return '-' if value is None else f'{value:.0f}'

        a2_nl_mem = '-'
        if mem.get('A2Block') is not None and mem.get('NonLocal3d'):
            a2_nl_mem = f"{mem['A2Block'] / mem['NonLocal3d']:.3f}"
        out(f"| {row['channels']} | {row['size']} | {ms('A2Block')} | "
            f"{ms('NonLocal3d')} | {ms('ContextBlock')} | {ms('floor')} | "
            f"{fmt_ratio(t.get('NonLocal3d'), t['A2Block'])} | "
            f"{fmt_ratio(t['A2Block'], t['floor'])} | {mib('A2Block')} | "
            f"{mib('NonLocal3d')} | {mib('ContextBlock')} | {a2_nl_mem} |")
    # growth of A2Block's time with the number of positions
    for channels in channels_list:
        sub = {r['size']: r['times']['A2Block'] for r in rows
               if r['channels'] == channels}
        if '8x28x28' in sub and '16x56x56' in sub:
            out(f'C={channels}: A2Block time 16x56x56 / 8x28x28 '
                f'(8x the positions) = {sub["16x56x56"] / sub["8x28x28"]:.1f}x'
                f'; floor grows {_floor_growth(rows, channels):.1f}x')
    return rows


def _floor_growth(rows: List[dict], channels: int) -> float:
    sub = {r['size']: r['times']['floor'] for r in rows
           if r['channels'] == channels}
    return sub['16x56x56'] / sub['8x28x28']


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == '--memory-probe':
        memory_probe(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
        return
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--channels', type=int, nargs='+',
                        default=[512, 1024])
    parser.add_argument('--sizes', nargs='+', default=SIZES,
                        help='T x H x W sizes, e.g. 8x28x28')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--device', default='cpu',
                        help='cpu (default) or cuda[:i]')
    parser.add_argument('--a2-impl', default='auto',
                        choices=['auto', 'chunked', 'autograd'],
                        help="A2Block's training pass (its impl argument)")
    parser.add_argument('--no-memory', action='store_true',
                        help='skip the peak-memory subprocesses')
    parser.add_argument('--nonlocal-budget-gib', type=float, default=8.,
                        help='skip NonLocal3d where its N x N matrices '
                        'alone would exceed this')
    args = parser.parse_args()
    if torch.device(args.device).type == 'cuda':
        if not torch.cuda.is_available():
            raise SystemExit(f'--device {args.device}: CUDA is not '
                             f'available in torch {torch.__version__}')
        where = torch.cuda.get_device_name(args.device)
    else:
        where = f'CPU, {torch.get_num_threads()} threads'
    print(f'torch {torch.__version__}, {where}, float32, batch 1, '
          f'forward+backward, best of {args.repeats} round-robin repeats, '
          f'A2Block impl={args.a2_impl!r}')
    run(args.channels, args.sizes, args.repeats, not args.no_memory,
        args.nonlocal_budget_gib, device=args.device, impl=args.a2_impl)


if __name__ == '__main__':
    main()
