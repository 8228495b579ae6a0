"""Speed and memory of A2Block against its peers, side by side in one run.

For each channel count and input size, measures forward+backward time and
peak memory of:

* ``A2Block:<impl>`` (a2mm; m = n = C/4, the paper's ablation setting), one
  column per pass named with ``--a2-impls`` (``auto``, ``fused``,
  ``chunked``, ``autograd``); a pass that cannot run on the device (the
  Triton ``fused`` pass on a CPU outside Triton's interpreter) is reported
  as ``n/a`` with the reason;
* mmcv ``NonLocal3d`` (embedded gaussian, reduction 2);
* ``ContextBlock3d`` (a2mm's GCNet block over space and time, ratio 1/16,
  GCNet's default);
* the *floor*: one matrix product with the FLOPs of A2Block's N-sized
  products (theta/rho projections 2n*C, pooling n*C and distribution n*C
  per position with m = n, i.e. an (N, C) x (C, 4n) product), forward and
  backward (three such products).

Timing: the modules are measured round-robin, ``--repeats`` rounds, and the
best time of each is kept, so a busy machine slows all of them alike.
``--amp bf16|fp16`` runs each forward under autocast, as mixed-precision
training does. Memory: on the CPU each (module, size) runs in a fresh
subprocess (Linux): after one warm-up step, the peak resident set size is
reset (``/proc/self/clear_refs``) and peak memory is its rise (``VmHWM``
over ``VmRSS``) during one forward+backward, over what the input, the output
gradient and the weights already took. glibc's mmap threshold is fixed at 64
KiB there, so that freed tensors leave the resident set at once for every
module alike. With ``--device cuda`` the steps run on the GPU (each timed to
a device synchronisation) and peak memory is the caching allocator's peak of
allocated bytes during one step, in the same process (exact).

Usage::

    python tools/analysis/benchmark_block.py
    python tools/analysis/benchmark_block.py --channels 512 --sizes 8x28x28
    python tools/analysis/benchmark_block.py --device cuda --batch 8 \\
        --a2-impls fused autograd --amp bf16
"""
import argparse
import json
import os
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

SIZES = ['4x14x14', '8x14x14', '8x28x28', '16x28x28', '16x56x56']
PEERS = ['NonLocal3d', 'ContextBlock', 'floor']
AMP_DTYPES = {None: None, 'fp16': torch.float16, 'bf16': torch.bfloat16}


class MatmulFloor(nn.Module):
    """One (N, C) x (C, 4n) product (n = C/4): the FLOPs of A2Block's
    N-sized products, without anything else."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        n = channels // 4
        self.weight = nn.Parameter(
            torch.randn(4 * n, channels) / channels**0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight)


def module_names(impls: Sequence[str]) -> List[str]:
    """The measured modules: one A2Block per pass, then the peers."""
    return [f'A2Block:{impl}' for impl in impls] + PEERS


def build(name: str, channels: int) -> nn.Module:
    """The module ``name`` (see :func:`module_names`)."""
    import a2mm  # noqa: F401  (registers A2Block and ContextBlock3d)
    from mmaction.registry import MODELS
    from mmcv.cnn import NonLocal3d

    if name.startswith('A2Block:'):
        block = MODELS.build(dict(type='A2Block', in_channels=channels,
                                  impl=name.split(':', 1)[1]))
        nn.init.normal_(block.out_proj_weight, std=0.01)  # not identity
        return block
    if name == 'NonLocal3d':
        return NonLocal3d(channels, reduction=2, mode='embedded_gaussian')
    if name == 'ContextBlock':
        return MODELS.build(dict(type='ContextBlock3d', in_channels=channels,
                                 ratio=1. / 16))
    if name == 'floor':
        return MatmulFloor(channels)
    raise ValueError(f'unknown module {name!r}, expected A2Block:<impl> or '
                     f'one of {PEERS}')


def unavailable(name: str, device: str) -> Optional[str]:
    """Why ``name`` cannot run on ``device`` (an A2Block pass the block
    refuses there, e.g. the Triton pass on a CPU), or None."""
    if not name.startswith('A2Block:'):
        return None
    block = build(name, 16).to(device)
    try:
        block(torch.zeros(1, 16, 1, 1, 2, device=device))
    except RuntimeError as error:  # the block's own refusal, with its reason
        if 'cannot run on' in str(error):
            return str(error)
        raise
    return None


def make_input(name: str, channels: int, size: str, batch: int = 1,
               device: str = 'cpu') -> Tuple[torch.Tensor, torch.Tensor]:
    """The input and a dense gradient for the output (as in training)."""
    t, h, w = (int(v) for v in size.split('x'))
    if name == 'floor':
        rows = batch * t * h * w
        return (torch.randn(rows, channels, device=device,
                            requires_grad=True),
                torch.randn(rows, 4 * (channels // 4), device=device))
    x = torch.randn(batch, channels, t, h, w, device=device,
                    requires_grad=True)
    return x, torch.randn_like(x)


def step(module: nn.Module, inputs: Tuple[torch.Tensor, torch.Tensor],
         amp: Optional[str] = None) -> None:
    """One forward (under autocast with ``amp``) + backward, finished (CUDA
    work synchronised)."""
    x, grad = inputs
    with torch.autocast(x.device.type, dtype=AMP_DTYPES[amp],
                        enabled=amp is not None):
        out = module(x)
    out.backward(grad.to(out.dtype))
    x.grad = None
    module.zero_grad(set_to_none=True)
    if x.is_cuda:
        torch.cuda.synchronize(x.device)


def nonlocal_bytes(channels: int, size: str, batch: int = 1) -> int:
    """A rough lower bound of NonLocal3d's fwd+bwd memory: the N x N
    attention matrix, its softmax and their gradients."""
    t, h, w = (int(v) for v in size.split('x'))
    return batch * 4 * 4 * (t * h * w)**2


def measure_memory(name: str, channels: int, size: str, batch: int = 1,
                   device: str = 'cpu', amp: Optional[str] = None) -> float:
    """Peak memory of one fwd+bwd in MiB: on the CPU in a fresh
    subprocess, on CUDA from the caching allocator's peak (exact)."""
    if torch.device(device).type == 'cuda':
        return cuda_memory(name, channels, size, batch, device, amp)
    # A fixed mmap threshold: every allocation of 64 KiB or more gets its own
    # mapping and is returned on free, so RSS follows live tensor memory
    # instead of glibc's heap growth heuristics.
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='65536')
    out = subprocess.run(
        [sys.executable, __file__, '--memory-probe', name, str(channels),
         size, str(batch), amp or 'none'],
        capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])['mib']


def memory_probe(name: str, channels: int, size: str, batch: int,
                 amp: Optional[str]) -> None:
    torch.manual_seed(0)
    module = build(name, channels)
    inputs = make_input(name, channels, size, batch)
    step(module, inputs, amp)  # warm-up: one-time library workspaces
    from a2mm.utils.proc_memory import reset_peak_rss, status_mib

    reset_peak_rss()
    before = status_mib('VmRSS')
    step(module, inputs, amp)
    print(json.dumps({'mib': status_mib('VmHWM') - before}))


def cuda_memory(name: str, channels: int, size: str, batch: int,
                device: str, amp: Optional[str] = None) -> float:
    """Peak growth of allocated CUDA memory during one fwd+bwd, in MiB,
    over the module, its input and the output gradient."""
    torch.manual_seed(0)
    module = build(name, channels).to(device)
    inputs = make_input(name, channels, size, batch, device)
    step(module, inputs, amp)  # warm-up
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    step(module, inputs, amp)
    mib = (torch.cuda.max_memory_allocated(device) - before) / 2**20
    del module, inputs
    torch.cuda.empty_cache()
    return mib


def time_round_robin(cases: Dict[str, Tuple[nn.Module, tuple]],
                     repeats: int,
                     amp: Optional[str] = None) -> Dict[str, float]:
    best = {name: float('inf') for name in cases}
    for module, inputs in cases.values():  # warm-up
        step(module, inputs, amp)
    for _ in range(repeats):
        for name, (module, inputs) in cases.items():
            start = time.perf_counter()
            step(module, inputs, amp)
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def run(channels_list: List[int], sizes: List[str], repeats: int,
        memory: bool, memory_budget_gib: float,
        out: Callable[[str], None] = print,
        device: str = 'cpu',
        impls: Sequence[str] = ('auto', ),
        batch: int = 1,
        amp: Optional[str] = None) -> List[dict]:
    """Measure, print the table through ``out`` and return one dict per
    (channels, size, module): ``ms``, ``mib`` (None when not measured),
    ``floor_ratio``; ``ms`` None and ``skipped`` saying why for a module
    that did not run."""
    rows = []
    for channels in channels_list:
        for size in sizes:
            skipped = {}
            for name in module_names(impls):
                reason = unavailable(name, device)
                if (name == 'NonLocal3d' and nonlocal_bytes(
                        channels, size, batch) >= memory_budget_gib * 2**30):
                    reason = (f'its N x N maps exceed '
                              f'{memory_budget_gib:g} GiB')
                if reason is not None:
                    skipped[name] = reason
            names = [n for n in module_names(impls) if n not in skipped]
            torch.manual_seed(0)
            cases = {
                name: (build(name, channels).to(device),
                       make_input(name, channels, size, batch, device))
                for name in names
            }
            times = time_round_robin(cases, repeats, amp)
            del cases
            if torch.device(device).type == 'cuda':
                torch.cuda.empty_cache()
            for name in module_names(impls):
                row = dict(channels=channels, size=size, batch=batch,
                           module=name, ms=None, mib=None, floor_ratio=None,
                           skipped=skipped.get(name))
                if name in times:
                    row['ms'] = times[name] * 1e3
                    row['floor_ratio'] = times[name] / times['floor']
                    if memory:
                        row['mib'] = measure_memory(name, channels, size,
                                                    batch, device, amp)
                rows.append(row)
    out('| C | T×H×W | batch | module | fwd+bwd ms | × floor | peak MiB |')
    out('|---:|---|---:|---|---:|---:|---:|')
    for row in rows:
        if row['ms'] is None:
            cells = f"n/a ({row['skipped']}) | - | -"
        else:
            mib = '-' if row['mib'] is None else f"{row['mib']:.0f}"
            cells = (f"{row['ms']:.2f} | {row['floor_ratio']:.2f} | "
                     f'{mib}')
        out(f"| {row['channels']} | {row['size']} | {row['batch']} | "
            f"{row['module']} | {cells} |")
    return rows


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == '--memory-probe':
        name, channels, size, batch, amp = sys.argv[2:7]
        memory_probe(name, int(channels), size, int(batch),
                     None if amp == 'none' else amp)
        return
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--channels', type=int, nargs='+',
                        default=[512, 1024])
    parser.add_argument('--sizes', nargs='+', default=SIZES,
                        help='T x H x W sizes, e.g. 8x28x28')
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--device', default='cpu',
                        help='cpu (default) or cuda[:i]')
    parser.add_argument('--amp', choices=sorted(k for k in AMP_DTYPES if k),
                        help='forward under autocast to this dtype '
                        '(default: float32)')
    parser.add_argument('--a2-impls', nargs='+', default=['auto'],
                        choices=['auto', 'fused', 'chunked', 'autograd'],
                        help="A2Block's passes (its impl argument), one "
                        'column each')
    parser.add_argument('--no-memory', action='store_true',
                        help='skip the peak-memory measurements')
    parser.add_argument('--nonlocal-budget-gib', type=float, default=8.,
                        help='skip NonLocal3d where its N x N matrices '
                        'alone would exceed this')
    args = parser.parse_args()
    if torch.device(args.device).type == 'cuda':
        if not torch.cuda.is_available():
            raise SystemExit(f'--device {args.device}: CUDA is not '
                             f'available in torch {torch.__version__}')
        where = torch.cuda.get_device_name(args.device)
        tf32 = torch.backends.cuda.matmul.allow_tf32
        where += f', TF32 matmuls {"on" if tf32 else "off"}'
    else:
        where = f'CPU, {torch.get_num_threads()} threads'
    precision = f'autocast {args.amp}' if args.amp else 'float32'
    print(f'torch {torch.__version__}, {where}, {precision}, batch '
          f'{args.batch}, forward+backward, best of {args.repeats} '
          'round-robin repeats')
    run(args.channels, args.sizes, args.repeats, not args.no_memory,
        args.nonlocal_budget_gib, device=args.device, impls=args.a2_impls,
        batch=args.batch, amp=args.amp)


if __name__ == '__main__':
    main()
