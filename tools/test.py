"""Test a checkpoint with the config's test protocol (multi-clip x 3-crop for
the a2mm configs), with MMAction2's ``tools/test.py`` flags.

Examples::

    python tools/test.py CONFIG CHECKPOINT
    python tools/test.py CONFIG CHECKPOINT --dump work_dirs/x/scores.pkl
    python tools/test.py CONFIG CHECKPOINT --amp-dtype bf16
    torchrun --nproc_per_node 8 tools/test.py CONFIG CKPT --launcher pytorch

Prints top-1 / top-5 and mean class accuracy (``AccMetric``).
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from a2mm.apis.config_check import check_config  # noqa: E402
from a2mm.apis.config_edits import (add_amp_arguments,  # noqa: E402
                                    enable_amp_test, enable_skip_bad_videos,
                                    link_num_classes)
from a2mm.utils import (close_distributed,  # noqa: E402
                        setup_cpu_distributed)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) an action recognizer')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='where the metrics log goes (default: work_dirs/<config name>)')
    parser.add_argument(
        '--dump',
        help='write the per-video predictions and labels to this .pkl file '
        "(each row names its video as 'filename')")
    parser.add_argument(
        '--show-dir',
        help='write the frames of each video (first clip, first crop) with '
        'its label and prediction drawn on them into this folder')
    parser.add_argument(
        '--show', action='store_true', help='show each video in a window')
    parser.add_argument(
        '--interval',
        type=int,
        default=1,
        help='visualise every N-th video (with --show / --show-dir)')
    parser.add_argument(
        '--wait-time',
        type=float,
        default=2,
        help='seconds each video is shown (with --show)')
    parser.add_argument(
        '--skip-bad-videos',
        action='store_true',
        help='leave videos that cannot be read out of the evaluation and '
        'report them (default: stop with an error naming the file)')
    add_amp_arguments(parser)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. '
        'test_dataloader.dataset.ann_file=data/list.txt')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command line to ``cfg`` (``--cfg-options`` last, so it wins).
    """
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        cfg.default_hooks.visualization = dict(
            type='MultiViewVisualizationHook',
            enable=True,
            show=args.show,
            wait_time=args.wait_time,
            out_dir=args.show_dir,
            interval=args.interval)
    if args.dump is not None:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise ValueError(
                f'--dump must name a .pkl or .pickle file, got {args.dump!r}')
        evaluators = cfg.test_evaluator
        if not isinstance(evaluators, list):
            evaluators = [evaluators]
        cfg.test_evaluator = evaluators + [
            dict(type='DumpResults', out_file_path=args.dump)
        ]
    if args.amp or args.amp_dtype:
        enable_amp_test(cfg, args.amp_dtype or 'fp16')
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.skip_bad_videos:
        enable_skip_bad_videos(cfg)
    return cfg


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = merge_args(Config.fromfile(args.config), args)
    link_num_classes(cfg)  # labels checked against the head when parsed
    check_config(cfg, 'test')  # before any data is read (robustness.md)
    setup_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    if runner.rank == 0:
        print(format_metrics(metrics))
    close_distributed()  # every process in step (a2mm/utils/dist.py)


def format_metrics(metrics: dict) -> str:
    """The accuracies of ``AccMetric`` as a short table (other metrics are
    listed under their own names)."""
    names = {'acc/top1': 'top-1 accuracy', 'acc/top5': 'top-5 accuracy',
             'acc/mean1': 'mean class accuracy'}
    lines = ['', 'Test results (multi-view scores averaged per video):']
    for key, value in metrics.items():
        shown = f'{100 * value:6.2f} %' if key in names else str(value)
        lines.append(f'  {names.get(key, key):<22s} {shown}')
    return '\n'.join(lines)


if __name__ == '__main__':
    main()
