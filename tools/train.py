"""Train a recognizer from a config, with MMAction2's ``tools/train.py`` flags.

Examples::

    python tools/train.py configs/embedded/a2_tiny_embedded.py
    python tools/train.py CONFIG --work-dir work_dirs/x --resume   # latest
    python tools/train.py CONFIG --resume work_dirs/x/iter_4000.pth
    python tools/train.py CONFIG --amp-dtype bf16   # mixed precision
    torchrun --nproc_per_node 8 tools/train.py CONFIG --launcher pytorch

See docs/train_test.md for multi-node runs (torchrun rendezvous, Slurm).
"""
import argparse
import os
import os.path as osp
import sys

# Run from a checkout without installing: make `import a2mm` work.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from a2mm.apis.config_check import check_config  # noqa: E402
from a2mm.apis.config_edits import (add_amp_arguments,  # noqa: E402
                                    enable_amp_train, link_num_classes)
from a2mm.utils import (close_distributed,  # noqa: E402
                        setup_cpu_distributed)
from a2mm.utils.determinism import (prepare_cuda_determinism,  # noqa: E402
                                    relax_cuda_determinism)
from a2mm.utils.work_dir_lock import launcher_rank, lock_work_dir  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train an action recognizer')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--work-dir',
        help='where logs and checkpoints go '
        '(default: work_dirs/<config name>)')
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        help='resume from this checkpoint; without a path, from the latest '
        'checkpoint in the work dir (a fresh start when there is none)')
    add_amp_arguments(parser)
    parser.add_argument(
        '--compile',
        action='store_true',
        help="torch.compile the model's train step (MMEngine's "
        'compile=True; docs/models.md, "Compile")')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate on the validation set during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr linearly from auto_scale_lr.base_batch_size to '
        'the actual total batch size')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument(
        '--diff-rank-seed',
        action='store_true',
        help='a different seed on each rank')
    parser.add_argument(
        '--deterministic',
        action='store_true',
        help='deterministic algorithms (slower)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. '
        'train_dataloader.dataset.ann_file=data/list.txt '
        'train_dataloader.batch_size=4')
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
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp or args.amp_dtype:
        enable_amp_train(cfg, args.amp_dtype or 'fp16')
    if args.compile:
        cfg.compile = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise KeyError('--auto-scale-lr needs `auto_scale_lr = dict('
                           'base_batch_size=...)` in the config')
        cfg.auto_scale_lr.enable = True
    if cfg.get('randomness') is None:
        cfg.randomness = dict(
            seed=args.seed,
            diff_rank_seed=args.diff_rank_seed,
            deterministic=args.deterministic)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = merge_args(Config.fromfile(args.config), args)
    link_num_classes(cfg)  # labels checked against the head when parsed
    check_config(cfg, 'train')  # before any data is read (robustness.md)
    # one run per work dir, held until this process ends (robustness.md)
    lock_work_dir(cfg.work_dir, rank=launcher_rank(args.launcher))
    setup_cpu_distributed(cfg, args.launcher)
    prepare_cuda_determinism(cfg)  # before cuBLAS is first used
    runner = Runner.from_cfg(cfg)
    relax_cuda_determinism(cfg)  # after the runner's own randomness setup
    runner.train()
    close_distributed()  # every process in step (a2mm/utils/dist.py)


if __name__ == '__main__':
    main()
