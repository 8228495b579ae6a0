"""tools/analysis/benchmark_block.py measures every module side by side (the
real run is a benchmark, not a test)."""
import pytest
import torch

from tests.helpers.tools import load_tool

bench = load_tool('tools/analysis/benchmark_block.py')


def test_rows_and_table_on_cpu():
    lines = []
    rows = bench.run([16], ['2x4x4', '2x8x8'], repeats=1, memory=False,
                     memory_budget_gib=8., out=lines.append)
    assert [r['size'] for r in rows] == ['2x4x4', '2x8x8']
    assert all(set(r['times']) == set(bench.MODULES) for r in rows)
    assert all(t > 0 for r in rows for t in r['times'].values())
    # a markdown table: header, rule, one line per row with its times
    header, rule, *body = lines
    assert header.startswith('| C | T×H×W | A2Block ms |')
    assert rule == '|' + '---|' * (header.count('|') - 1)
    assert len(body) == len(rows)
    for line, row in zip(body, rows):
        cells = [c.strip() for c in line.strip('|').split('|')]
        assert len(cells) == header.count('|') - 1
        assert cells[:2] == ['16', row['size']]
        assert float(cells[2]) == pytest.approx(  # A2Block ms
            row['times']['A2Block'] * 1e3, abs=0.051)
        # memory not measured: its columns say so
        assert cells[8] == '-' and cells[-1] == '-'


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
