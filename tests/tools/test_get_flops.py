"""tools/analysis/get_flops.py: the command line over
:mod:`a2mm.apis.complexity` (whose counting is tested in
tests/apis/test_complexity.py)."""
import os.path as osp
import re
from pathlib import Path

import pytest

from tests.helpers.tools import load_tool, run_tool

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / 'tools' / 'analysis' / 'get_flops.py'
get_flops = load_tool('tools/analysis/get_flops.py')


def test_main_measures_each_config_at_the_given_shape(tiny_configs, capsys):
    plain, a2 = get_flops.main(list(tiny_configs) +
                               ['--shape', '4', '32', '32'])
    assert plain.input_shape == a2.input_shape == (1, 1, 3, 4, 32, 32)
    assert a2.params > plain.params and a2.flops > plain.flops
    out = capsys.readouterr().out
    for row in (plain, a2):
        assert printed_figures(out, row.config) == [row.params / 1e6,
                                                    row.flops / 1e9]
    assert 'one multiply-add = 1 FLOP' in out


def printed_figures(out: str, config: str) -> list:
    """The parameters (M) and GFLOPs printed on ``config``'s line, to the
    printed precision (2 decimals) compared as numbers."""
    (line, ) = [line for line in out.splitlines()
                if osp.basename(config) in line]
    params, gflops = (float(n) for n in re.findall(r'\d+\.\d+', line)[-2:])
    return [pytest.approx(params, abs=0.0051),
            pytest.approx(gflops, abs=0.0051)]


def test_cfg_options_reach_the_model(tiny_configs):
    (seven, ) = get_flops.main([
        tiny_configs[1], '--shape', '4', '32', '32', '--cfg-options',
        'model.cls_head.num_classes=7'
    ])
    (five, ) = get_flops.main([tiny_configs[1], '--shape', '4', '32', '32'])
    # the head's fc: two more classes of 128 weights and a bias each
    assert seven.params - five.params == 2 * 128 + 2


def test_command_line(tiny_configs):
    """From another folder, as a user runs it: the same figures as the
    function."""
    out = run_tool(['python', SCRIPT, tiny_configs[1], '--shape', '4', '32',
                    '32'], cwd=str(ROOT.parent))
    (a2, ) = get_flops.main([tiny_configs[1], '--shape', '4', '32', '32'])
    assert printed_figures(out, tiny_configs[1]) == [a2.params / 1e6,
                                                     a2.flops / 1e9]
    assert '(1, 1, 3, 4, 32, 32)' in out
