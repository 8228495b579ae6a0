"""Plot training curves, or print iteration times, from MMEngine's json logs.

MMAction2's ``tools/analysis_tools/analyze_logs.py`` habit (sub-commands
``plot_curve`` and ``cal_train_time``), for the logs MMEngine writes:
``<work_dir>/<timestamp>/vis_data/scalars.json`` (or ``<timestamp>.json``),
one json object per line:

* training lines carry ``epoch``, ``iter`` (global), ``step`` (= ``iter``)
  and the logged values (``loss``, ``lr``, ``time``, ...);
* validation lines carry only the metrics (``acc/top1``, ``acc/top5``,
  ...) and ``step``: the epoch (MMEngine's default
  ``log_metric_by_epoch=True``), or the iteration otherwise.

A run may be given as such a json file or as a folder (a work dir, a
timestamp folder or a ``vis_data`` folder): the newest
``vis_data/scalars.json`` under it is used.

Each key gets its own panel, one curve per run; keys found in training
lines are plotted against the iteration, keys found in validation lines
against the validation step (epoch).

Examples::

    python tools/analysis/analyze_logs.py plot_curve \\
        work_dirs/a2_r50_ucf101 work_dirs/i3d_r50_ucf101 \\
        --keys loss acc/top1 --legend A2 I3D --out curves.png
    python tools/analysis/analyze_logs.py cal_train_time \\
        work_dirs/a2_r50_ucf101
"""
import argparse
import glob
import json
import os.path as osp
import sys
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

import matplotlib

matplotlib.use('Agg')  # noqa: E402  (no display needed to write a PNG)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

# Series of one run: key -> (xs, ys), separately for train and val lines.
Series = Dict[str, Tuple[List[float], List[float]]]

#: Panel size in inches and resolution: the PNG is ``(PANEL_SIZE[0] * DPI)``
#: wide and ``PANEL_SIZE[1] * DPI`` high per key.
PANEL_SIZE = (8.0, 3.0)
DPI = 100


def find_json_log(path: str) -> str:
    """``path`` itself if it is a ``.json`` file, else the newest
    ``vis_data/scalars.json`` (by timestamp folder name) under it."""
    if osp.isfile(path):
        if not path.endswith('.json'):
            raise ValueError(f'{path} is not a json log (expected MMEngine\'s '
                             'vis_data/scalars.json)')
        return path
    if not osp.isdir(path):
        raise FileNotFoundError(f'log file or folder not found: {path}')
    for pattern in ('scalars.json', 'vis_data/scalars.json',
                    '*/vis_data/scalars.json'):
        found = sorted(glob.glob(osp.join(path, pattern)))
        if found:
            return found[-1]
    raise FileNotFoundError(
        f'no vis_data/scalars.json under {path}; was the run logged with '
        'MMEngine\'s LocalVisBackend (the default visualizer)?')


def load_json_log(path: str) -> Tuple[Series, Series, bool]:
    """Read one MMEngine json log.

    Returns:
        train: key -> (iterations, values) from training lines.
        val: key -> (steps, values) from validation lines.
        by_epoch: whether the training lines carry an ``epoch`` (then the
            validation steps are epochs).
    """
    train: Series = defaultdict(lambda: ([], []))
    val: Series = defaultdict(lambda: ([], []))
    by_epoch = False
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}, line {lineno}: not json ({err})')
            if 'step' not in record:
                raise ValueError(f'{path}, line {lineno}: no "step" key; '
                                 'not an MMEngine scalars log')
            step = record.pop('step')
            if 'iter' in record:  # a training line
                by_epoch = by_epoch or 'epoch' in record
                x, series = record.pop('iter'), train
                record.pop('epoch', None)
            else:
                x, series = step, val
            for key, value in record.items():
                if isinstance(value, (int, float)):
                    series[key][0].append(x)
                    series[key][1].append(value)
    return dict(train), dict(val), by_epoch


def plot_curve(logs: List[str], keys: List[str], out: str,
               legend: Optional[List[str]] = None,
               title: Optional[str] = None) -> Tuple[int, int]:
    """Plot ``keys`` of each run (one panel per key) into the PNG ``out``.
    Returns the image's ``(width, height)``: ``PANEL_SIZE * DPI`` with the
    height times ``len(keys)``.
    """
    if legend is None:
        legend = [osp.basename(osp.normpath(p)) for p in logs]
    if len(legend) != len(logs):
        raise ValueError(f'{len(legend)} legend entries for {len(logs)} '
                         'runs')
    runs = [load_json_log(find_json_log(p)) for p in logs]
    fig, axes = plt.subplots(
        len(keys),
        1,
        figsize=(PANEL_SIZE[0], PANEL_SIZE[1] * len(keys)),
        dpi=DPI,
        squeeze=False)
    for ax, key in zip(axes[:, 0], keys):
        plotted = False
        for path, name, (train, val, by_epoch) in zip(logs, legend, runs):
            if key in train:
                xs, ys = train[key]
                ax.set_xlabel('iteration')
            elif key in val:
                xs, ys = val[key]
                ax.set_xlabel('epoch' if by_epoch else 'iteration (val)')
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            else:
                print(f'{path}: no "{key}"; has '
                      f'{sorted(set(train) | set(val))}')
                continue
            print(f'plot {key} of {path} ({len(xs)} points)')
            ax.plot(xs, ys, label=name, marker='o' if key in val else None,
                    markersize=3, linewidth=1)
            plotted = True
        if not plotted:
            plt.close(fig)
            raise KeyError(f'no run has key "{key}"; keys of the first run: '
                           f'{sorted(set(runs[0][0]) | set(runs[0][1]))}')
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        axes[0, 0].set_title(title)
    fig.tight_layout()
    width, height = fig.canvas.get_width_height()
    fig.savefig(out, dpi=DPI)
    plt.close(fig)
    print(f'save curve to: {out} ({width}x{height} pixels)')
    return width, height


def cal_train_time(logs: List[str], include_outliers: bool = False) -> None:
    """Print the mean, slowest and fastest logged ``time`` (seconds per
    iteration) of each run; the first logged value (warm-up) is dropped
    unless ``include_outliers``."""
    for path in logs:
        train, _, _ = load_json_log(find_json_log(path))
        if 'time' not in train:
            raise KeyError(f'{path}: training lines have no "time"')
        times = np.array(train['time'][1])
        if not include_outliers and len(times) > 1:
            times = times[1:]
        print(f'{path}: average iter time {times.mean():.4f} s/iter '
              f'(slowest {times.max():.4f}, fastest {times.min():.4f}, '
              f'{len(times)} logged)')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Analyze MMEngine json logs')
    sub = parser.add_subparsers(dest='task', required=True)
    plot = sub.add_parser('plot_curve', help='plot curves to a PNG')
    plot.add_argument('logs', nargs='+', help='json logs or work dirs')
    plot.add_argument(
        '--keys',
        nargs='+',
        default=['loss', 'acc/top1'],
        help='keys to plot, one panel each')
    plot.add_argument('--legend', nargs='+', default=None,
                      help='one name per run (default: the paths)')
    plot.add_argument('--title', default=None, help='figure title')
    plot.add_argument('--out', default='curves.png', help='PNG file')
    time = sub.add_parser(
        'cal_train_time', help='average time per training iteration')
    time.add_argument('logs', nargs='+', help='json logs or work dirs')
    time.add_argument('--include-outliers', action='store_true',
                      help='keep the first logged time of the run')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if args.task == 'plot_curve':
        plot_curve(args.logs, args.keys, args.out, args.legend, args.title)
    else:
        cal_train_time(args.logs, args.include_outliers)


if __name__ == '__main__':
    main(sys.argv[1:])
