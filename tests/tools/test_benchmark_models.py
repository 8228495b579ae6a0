"""tools/analysis/benchmark_models.py runs side by side on tiny models and
reports speed ratios and memory (the real run is a benchmark, not a test)."""
import re

import pytest
import torch

from tests.helpers.configs import TINY_MODEL
from tests.helpers.tools import load_tool

benchmark = load_tool('tools/analysis/benchmark_models.py')


def test_side_by_side(tmp_path, capsys):
    rows = benchmark.main(_tiny_configs(tmp_path) + [
        '--shape', '4', '32', '32', '--iters', '2', '--warmup', '0',
        '--batch', '2'
    ])
    out = capsys.readouterr().out
    assert [len(r['times']) for r in rows] == [2, 2]
    assert all(r['input'] == (2, 1, 3, 4, 32, 32) for r in rows)
    a2, plain = rows
    # the printed speed ratio is the one of the measured median steps
    printed = float(re.search(r'a2\.py speed / plain\.py speed = ([\d.]+)',
                              out).group(1))
    assert printed == pytest.approx(plain['step_s'] / a2['step_s'],
                                    abs=6e-4)
    # the A² blocks keep their inputs and projections for the backward pass
    assert a2['saved'] > plain['saved'] > 0
    assert a2['params'] > plain['params']
    assert a2['step_peak'] > 0


def _tiny_configs(tmp_path):
    """``a2.py`` (A² blocks in two stages) and ``plain.py`` (none)."""
    configs = []
    for name, a2 in (('a2', '(0, 1, 1)'), ('plain', '0')):
        path = tmp_path / f'{name}.py'
        path.write_text(
            TINY_MODEL.format(type='A2ResNet3d', extra=f'a2={a2}'))
        configs.append(str(path))
    return configs


def test_amp_steps_run_under_autocast(tmp_path, capsys, monkeypatch):
    seen = []
    real = benchmark.F.cross_entropy

    def spy(scores, labels):
        seen.append(torch.get_autocast_dtype('cpu')
                    if torch.is_autocast_enabled('cpu') else None)
        return real(scores, labels)

    monkeypatch.setattr(benchmark.F, 'cross_entropy', spy)
    rows = benchmark.main(_tiny_configs(tmp_path) + [
        '--shape', '4', '32', '32', '--iters', '1', '--warmup', '0',
        '--amp', 'bf16', '--no-memory'
    ])
    assert seen == [torch.bfloat16, torch.bfloat16]
    assert [len(r['times']) for r in rows] == [1, 1]
    assert 'CPU, autocast bf16' in capsys.readouterr().out


@pytest.mark.skipif(torch.cuda.is_available(), reason='needs a CPU-only run')
def test_cuda_requested_without_cuda(tmp_path):
    with pytest.raises(SystemExit, match='CUDA is not available'):
        benchmark.main(_tiny_configs(tmp_path) + ['--device', 'cuda'])


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
@pytest.mark.parametrize('amp', [None, 'bf16', 'fp16'])
def test_side_by_side_cuda(tmp_path, capsys, amp):
    args = ['--shape', '4', '32', '32', '--iters', '2', '--warmup', '1',
            '--device', 'cuda']
    rows = benchmark.main(_tiny_configs(tmp_path) + args +
                          (['--amp', amp] if amp else []))
    out = capsys.readouterr().out
    assert torch.cuda.get_device_name() in out
    a2, plain = rows
    assert all(t > 0 for r in rows for t in r['times'])
    # exact CUDA allocator figures: the A² blocks save more for backward
    assert a2['saved'] > plain['saved'] > 0
    assert a2['step_peak'] > plain['step_peak'] > 0


def test_compile_against_eager_side_by_side(tmp_path, capsys, monkeypatch):
    compiled = []
    real = torch.compile

    def spy(fn, **kwargs):
        compiled.append(kwargs)
        # dynamo + AOTAutograd without inductor's C++ builds (minutes on a
        # shared CPU); the block's inductor test covers code generation
        return real(fn, backend='aot_eager')

    monkeypatch.setattr(benchmark.torch, 'compile', spy)
    rows = benchmark.main(_tiny_configs(tmp_path) + [
        '--shape', '2', '16', '16', '--iters', '2', '--warmup', '0',
        '--batch', '2', '--compile'
    ])
    out = capsys.readouterr().out
    assert compiled == [{}, {}]  # default backend, as MMEngine compiles
    for row in rows:
        assert len(row['eager_times']) == len(row['compiled_times']) == 2
        # the first compiled step traces and builds kernels
        assert row['first_compiled_s'] > row['compiled_s'] > 0
        assert row['compile_s'] > 0
    assert 'a2.py speed / plain.py speed = ' in out and ' compiled' in out
    assert 'compiled speed / eager speed' in out
