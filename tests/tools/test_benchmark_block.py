"""tools/analysis/benchmark_block.py measures every module side by side (the
real run is a benchmark, not a test)."""
import re

import pytest
import torch

from tests.helpers.tools import load_tool

bench = load_tool('tools/analysis/benchmark_block.py')


def figures(line: str) -> list:
    """The numbers printed on one line, in order (ratios without their x)."""
    return [float(n) for n in re.findall(r'(?<![\w.])\d+(?:\.\d+)?', line)]


def test_rows_and_printed_figures_agree_on_cpu():
    lines = []
    rows = bench.run([16], ['2x4x4', '2x8x8'], repeats=1, memory=False,
                     memory_budget_gib=8., out=lines.append)
    assert [r['size'] for r in rows] == ['2x4x4', '2x8x8']
    assert all(set(r['times']) == set(bench.MODULES) for r in rows)
    assert all(t > 0 for r in rows for t in r['times'].values())
    for row in rows:
        t = row['times']
        (line, ) = [line for line in lines if row['size'] in line]
        printed = figures(line)
        # each module's time in ms, then NL/A2 and A2/floor, consistent
        # with the measured times (to the printed precision)
        for name in ('A2Block', 'NonLocal3d', 'ContextBlock', 'floor'):
            assert any(abs(p - t[name] * 1e3) <= 0.051 for p in printed), \
                (name, line)
        for ratio in (t['NonLocal3d'] / t['A2Block'],
                      t['A2Block'] / t['floor']):
            assert any(abs(p - ratio) <= 0.051 for p in printed), line


def test_nonlocal_skipped_over_budget():
    rows = bench.run([32], ['4x16x16'], repeats=1, memory=False,
                     memory_budget_gib=1e-3, out=lambda s: None)
    assert 'NonLocal3d' not in rows[0]['times']
    assert 'A2Block' in rows[0]['times']


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_memory_is_linear_for_a2_and_quadratic_for_nonlocal():
    rows = bench.run([64], ['4x16x16', '8x32x32'], repeats=1, memory=True,
                     memory_budget_gib=8., out=lambda s: None,
                     device='cuda')
    small, large = (r['mems'] for r in rows)
    # 8x the positions: A2Block's peak grows about 8x, NonLocal3d's N x N
    # attention about 64x
    assert small['A2Block'] * 12 > large['A2Block']
    assert large['NonLocal3d'] > 30 * small['NonLocal3d']
    assert large['A2Block'] < large['NonLocal3d'] / 10


@pytest.mark.slow
def test_a2_impl_reaches_the_block(monkeypatch):
    seen = []
    real = bench.build

    def spy(name, channels, impl='auto'):
        module = real(name, channels, impl)
        if name == 'A2Block':
            seen.append(module.impl)
        return module

    monkeypatch.setattr(bench, 'build', spy)
    bench.run([16], ['2x4x4'], repeats=1, memory=True, memory_budget_gib=8.,
              out=lambda s: None, impl='autograd')
    # the timed module here; the memory probe runs in a subprocess
    assert seen == ['autograd']
