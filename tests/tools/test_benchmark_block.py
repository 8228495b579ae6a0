"""tools/analysis/benchmark_block.py measures every module side by side (the
real run is a benchmark, not a test)."""
import re

import pytest
import torch

from tests.helpers.tools import load_tool

bench = load_tool('tools/analysis/benchmark_block.py')


def figures(line: str) -> list:
    """The numbers printed on one line, in order."""
    return [float(n) for n in re.findall(r'(?<![\w.])\d+(?:\.\d+)?', line)]


def test_rows_on_cpu_with_each_pass():
    lines = []
    # the fused pass runs here in Triton's interpreter (tests/conftest.py)
    rows = bench.run([16], ['2x4x4', '2x3x5'], repeats=1, memory=False,
                     memory_budget_gib=8., out=lines.append,
                     impls=('fused', 'autograd'), batch=2)
    names = ['A2Block:fused', 'A2Block:autograd', 'NonLocal3d',
             'ContextBlock', 'floor']
    assert [(r['size'], r['module']) for r in rows] == [
        (size, name) for size in ('2x4x4', '2x3x5') for name in names]
    for row in rows:
        assert row['batch'] == 2 and row['ms'] > 0 and row['mib'] is None
    floor = {r['size']: r['ms'] for r in rows if r['module'] == 'floor'}
    for row in rows:
        assert row['floor_ratio'] == pytest.approx(row['ms'] /
                                                   floor[row['size']])
    # one printed line per row: its module and its figures, as measured
    printed = lines[-len(rows):]
    for row, line in zip(rows, printed):
        assert row['module'] in line and row['size'] in line
        assert any(abs(p - row['ms']) <= 0.006 for p in figures(line)), line


def test_a_pass_that_cannot_run_is_reported(monkeypatch):
    monkeypatch.setattr(
        bench, 'unavailable',
        lambda name, device: 'no Triton' if name == 'A2Block:fused' else None)
    lines = []
    rows = bench.run([16], ['2x4x4'], repeats=1, memory=False,
                     memory_budget_gib=8., out=lines.append,
                     impls=('fused', 'autograd'))
    fused = rows[0]
    assert fused['module'] == 'A2Block:fused' and fused['ms'] is None
    assert fused['skipped'] == 'no Triton'
    assert 'n/a (no Triton)' in lines[2]
    assert rows[1]['ms'] > 0


def test_nonlocal_skipped_over_budget():
    rows = bench.run([32], ['4x16x16'], repeats=1, memory=False,
                     memory_budget_gib=1e-3, out=lambda s: None)
    by_name = {r['module']: r for r in rows}
    assert by_name['NonLocal3d']['ms'] is None
    assert 'N x N' in by_name['NonLocal3d']['skipped']
    assert by_name['A2Block:auto']['ms'] > 0


def test_context_block_is_the_package_one():
    from a2mm.models.blocks import ContextBlock3d
    assert isinstance(bench.build('ContextBlock', 32), ContextBlock3d)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_memory_is_linear_for_a2_and_quadratic_for_nonlocal():
    rows = bench.run([64], ['4x16x16', '8x32x32'], repeats=1, memory=True,
                     memory_budget_gib=8., out=lambda s: None,
                     device='cuda', impls=('fused', 'autograd'))
    small, large = ({r['module']: r['mib'] for r in rows if r['size'] == s}
                    for s in ('4x16x16', '8x32x32'))
    # 8x the positions: A2Block's peak grows about 8x, NonLocal3d's N x N
    # attention about 64x
    for name in ('A2Block:fused', 'A2Block:autograd'):
        assert small[name] * 12 > large[name]
        assert large[name] < large['NonLocal3d'] / 10
    assert large['NonLocal3d'] > 30 * small['NonLocal3d']
    assert large['A2Block:fused'] <= large['A2Block:autograd']


@pytest.mark.slow  # a fresh Python process per module for its memory
def test_a2_impl_reaches_the_block(monkeypatch):
    seen = []
    real = bench.build

    def spy(name, channels):
        module = real(name, channels)
        if name.startswith('A2Block'):
            seen.append(module.impl)
        return module

    monkeypatch.setattr(bench, 'build', spy)
    rows = bench.run([16], ['2x4x4'], repeats=1, memory=True,
                     memory_budget_gib=8., out=lambda s: None,
                     impls=('autograd', ), amp='bf16')
    # the availability check and the timed module here; the memory probe
    # runs in a subprocess
    assert seen == ['autograd', 'autograd']
    assert all(r['mib'] is not None for r in rows)


def test_unavailable_is_the_block_refusal(monkeypatch):
    from a2mm.models.blocks import a2_fused
    monkeypatch.setattr(a2_fused, 'unavailable_reason',
                        lambda device: 'Triton does not import (test)')
    reason = bench.unavailable('A2Block:fused', 'cpu')
    assert "impl='fused' cannot run on cpu" in reason
    assert 'Triton does not import (test)' in reason
    assert bench.unavailable('A2Block:autograd', 'cpu') is None
    assert bench.unavailable('NonLocal3d', 'cpu') is None
