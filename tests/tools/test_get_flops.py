"""tools/analysis/get_flops.py: the command line over
:mod:`a2mm.apis.complexity` (whose counting is tested in
tests/apis/test_complexity.py)."""
import subprocess
import sys
from pathlib import Path

from tests.helpers.tools import load_tool

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / 'tools' / 'analysis' / 'get_flops.py'
get_flops = load_tool('tools/analysis/get_flops.py')


def test_main_measures_each_config_at_the_given_shape(tiny_configs, capsys):
    plain, a2 = get_flops.main(list(tiny_configs) +
                               ['--shape', '4', '32', '32'])
    assert plain.input_shape == a2.input_shape == (1, 1, 3, 4, 32, 32)
    assert a2.params > plain.params and a2.flops > plain.flops
    out = capsys.readouterr().out
    assert out.count('| (1, 1, 3, 4, 32, 32) |') == 2
    assert 'one multiply-add = 1 FLOP' in out


def test_cfg_options_reach_the_model(tiny_configs):
    (seven, ) = get_flops.main([
        tiny_configs[1], '--shape', '4', '32', '32', '--cfg-options',
        'model.cls_head.num_classes=7'
    ])
    (five, ) = get_flops.main([tiny_configs[1], '--shape', '4', '32', '32'])
    # the head's fc: two more classes of 128 weights and a bias each
    assert seven.params - five.params == 2 * 128 + 2


def test_command_line(tiny_configs):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), tiny_configs[1], '--shape', '4', '32',
         '32'],
        capture_output=True, text=True, cwd=str(ROOT.parent), timeout=300)
    assert result.returncode == 0, result.stderr
    assert '| config |' in result.stdout
    assert 'a2.py | (1, 1, 3, 4, 32, 32) |' in result.stdout
