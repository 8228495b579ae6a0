"""Parameters and FLOPs of one or more configs, with MMEngine's complexity
analysis (:mod:`a2mm.apis.complexity`: input size from each config's val
pipeline, one view, one multiply-add = one FLOP).

Usage::

    python tools/analysis/get_flops.py configs/a2_r50_kinetics.py \\
        configs/i3d_r50_kinetics.py [--shape 8 224 224]

``--shape`` is the input size of one view: T H W for 3D recognizers, H W
for 2D ones (default: from the config's val pipeline; 224x224 for a config
without one, such as an image model base).
"""
import argparse
from typing import List, Optional

from mmengine.config import DictAction

from a2mm.apis.complexity import Complexity, markdown_table, measure


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Parameters and FLOPs of configs (MMEngine analysis)')
    parser.add_argument('configs', nargs='+', help='config file(s)')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        help='input size of one view: T H W (3D models) or H W (2D); '
        'default: from the config\'s val pipeline')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, as in tools/train.py')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> List[Complexity]:
    args = parse_args(argv)
    rows = [measure(c, args.shape, args.cfg_options) for c in args.configs]
    print(markdown_table(rows))
    print('\nFLOPs: MMEngine FlopAnalyzer, one multiply-add = 1 FLOP, '
          'element-wise ops not counted, one view per row.')
    return rows


if __name__ == '__main__':
    main()
