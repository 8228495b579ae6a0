"""The paper's video ablations in miniature: train and test every arm of
``configs/ablations/mini/`` with several seeds, through ``tools/train.py``
and ``tools/test.py``, and write a table, a CSV and a plot.

Paper: Y. Chen et al., "A²-Nets: Double Attention Networks", NeurIPS 2018
(arXiv:1810.11579), Sec. 4 (ablations on Kinetics with a 3D ResNet-26). The
arms, the dataset and what each row tests: docs/ablation.md.

Usage (the full study; ~40 minutes on an idle 2-core CPU)::

    python tools/analysis/ablation_study.py

    # options: --seeds 0 1 2  --arms r3d_mini_baseline a2_mini_1block_stage2
    #          --work-dir work_dirs/ablation_mini  --out-dir docs/ablation
    #          --quick (tiny data, 1 epoch: seconds, for the test suite)

Each arm/seed runs in ``<work-dir>/<arm>/seed<k>/`` and leaves a
``result.json`` there: a second call skips every finished arm/seed (and
resumes an unfinished training from its last checkpoint), so an interrupted
study continues where it stopped. The data (``tools/data/
make_long_range_dataset.py``, seeded) are generated first when missing.

Written to ``--out-dir``: ``ablation.md`` (table: top-1 mean ± std over
seeds, parameters, GFLOPs of one clip (:mod:`a2mm.apis.complexity`,
MMEngine's FlopAnalyzer), training s/iter and test clips/s from the runs'
own logs, peak resident memory of the training process, and the wall time
and load of the machine during the study), ``ablation.csv`` (the same, with
each seed's accuracy) and ``ablation.png`` (top-1 against GFLOPs, error bars:
std over seeds).
"""
import argparse
import csv
import json
import os
import os.path as osp
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from statistics import mean, stdev
from typing import Dict, List, NamedTuple, Optional, Sequence

from mmengine.logging import MMLogger
from mmengine.utils import ProgressBar

from a2mm.apis.complexity import measure

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO, 'configs', 'ablations', 'mini')


class Arm(NamedTuple):
    """One row of the study: a config of ``configs/ablations/mini/``."""
    name: str
    group: str  # which paper claim the row belongs to
    what: str


ARMS = [
    Arm('r3d_mini_baseline', 'baseline', 'plain 3D ResNet (16/32/64)'),
    Arm('a2_mini_1block_stage1', 'stage', '+1 A², stage 1'),
    Arm('a2_mini_1block_stage2', 'stage', '+1 A², stage 2 (m = n = 8)'),
    Arm('a2_mini_1block_stage3', 'stage', '+1 A², stage 3'),
    Arm('a2_mini_2blocks', 'number', '+2 A² (stages 2, 3)'),
    Arm('a2_mini_4blocks', 'number', '+4 A² (2 in stage 2, 2 in stage 3)'),
    Arm('a2_mini_stage2_m16_n4', 'm/n', '+1 A², stage 2, m = 16, n = 4'),
    Arm('a2_mini_stage2_m4_n16', 'm/n', '+1 A², stage 2, m = 4, n = 16'),
    Arm('nl_mini_1block_stage2', 'non-local', '+1 non-local, stage 2'),
    Arm('gc_mini_1block_stage2', 'non-local', '+1 GC block, stage 2'),
    Arm('r3d_mini_deeper', 'deeper', 'plain, +1 residual block (stage 2)'),
    Arm('r3d_mini_wider', 'deeper', 'plain, 20/40/80 channels'),
]
ARM_NAMES = [arm.name for arm in ARMS]
QUICK_ARMS = ['r3d_mini_baseline', 'a2_mini_1block_stage2']
#: tools/data/make_long_range_dataset.py sizes of the full and quick study
FULL_DATA = dict(num_train=480, num_test=240)
QUICK_DATA = dict(num_train=16, num_test=8)


def run_tool(args: List[str], log_file: str, threads: int) -> Dict:
    """Run ``python <args>`` from the repository root with ``threads``
    intra-op threads, output to ``log_file``.

    Returns:
        dict: ``wall_s`` and ``max_rss_mb`` (peak resident memory of the
        process, from ``wait4``).

    Raises:
        RuntimeError: the tool failed; the message names its log.
    """
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO] + [p for p in env.get('PYTHONPATH', '').split(os.pathsep)
                  if p])
    start = time.perf_counter()
    with open(log_file, 'w') as log:
        proc = subprocess.Popen([sys.executable] + args, cwd=REPO, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        with open(log_file) as log:
            tail = ''.join(log.readlines()[-15:])
        raise RuntimeError(f'{args[0]} exited with {proc.returncode}; see '
                           f'{log_file}. Its last lines:\n{tail}')
    return dict(wall_s=time.perf_counter() - start,
                max_rss_mb=usage.ru_maxrss / 1024)  # Linux: kB


def read_scalars(work_dir: str, *, test: bool = False) -> List[Dict]:
    """The logged records of every run in ``work_dir``, oldest run first:
    MMEngine's ``<stamp>/vis_data/scalars.json`` of training (one JSON
    object per logged iteration), or ``<stamp>/<stamp>.json`` of a test
    (one object: the metrics and the mean iteration time)."""
    records = []
    for stamp in sorted(os.listdir(work_dir)):
        path = osp.join(work_dir, stamp, f'{stamp}.json') if test else \
            osp.join(work_dir, stamp, 'vis_data', 'scalars.json')
        if osp.isfile(path):
            with open(path) as f:
                records += [json.loads(line) for line in f if line.strip()]
    return records


def data_options(data_root: str) -> List[str]:
    """``--cfg-options`` that point the train and test loaders at
    ``data_root``."""
    opts = []
    for loader, split in (('train_dataloader', 'train'),
                          ('test_dataloader', 'test')):
        opts += [
            f'{loader}.dataset.ann_file={data_root}/{split}_list.txt',
            f'{loader}.dataset.data_prefix.video={data_root}/videos/{split}'
        ]
    return opts


def run_arm_seed(arm: str, seed: int, *, work_dir: str, data_root: str,
                 extra_options: Sequence[str], threads: int) -> Dict:
    """Train ``arm`` with ``seed`` (resuming an unfinished run), test its
    last checkpoint, and write ``result.json`` into ``work_dir``.

    Returns:
        dict: top1 (0..1), train_s_per_iter (mean of the logged iteration
        times after the first epoch), test_clips_per_s, max_rss_mb (peak
        resident memory of the training process), wall_s (train + test).
    """
    config = osp.join(CONFIG_DIR, f'{arm}.py')
    options = data_options(data_root) + list(extra_options)
    train = run_tool([
        'tools/train.py', config, '--work-dir', work_dir, '--seed',
        str(seed), '--no-validate', '--resume', '--cfg-options'
    ] + options, osp.join(work_dir, 'train.out'), threads)
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    train_records = [r for r in read_scalars(work_dir) if 'loss' in r]
    test_dir = osp.join(work_dir, 'test')
    os.makedirs(test_dir, exist_ok=True)
    test = run_tool([
        'tools/test.py', config, checkpoint, '--work-dir', test_dir,
        '--cfg-options'
    ] + options, osp.join(work_dir, 'test.out'), threads)
    test_records = [
        r for r in read_scalars(test_dir, test=True) if 'acc/top1' in r
    ]
    if not train_records or not test_records:
        raise RuntimeError(f'no training or test metrics logged in '
                           f'{work_dir} (see train.out, test.out)')
    steady = [r['time'] for r in train_records if r['epoch'] > 1] or \
        [r['time'] for r in train_records]
    batch = test_batch_size(test_dir)
    result = dict(
        arm=arm,
        seed=seed,
        top1=test_records[-1]['acc/top1'],
        train_s_per_iter=mean(steady),
        test_clips_per_s=batch / test_records[-1]['time'],
        max_rss_mb=train['max_rss_mb'],
        wall_s=train['wall_s'] + test['wall_s'])
    with open(osp.join(work_dir, 'result.json'), 'w') as f:
        json.dump(result, f, indent=1)
    return result


def test_batch_size(test_dir: str) -> int:
    """``test_dataloader.batch_size`` of the config the test run dumped."""
    from mmengine.config import Config
    dumped = sorted(
        osp.join(test_dir, stamp, 'vis_data', 'config.py')
        for stamp in os.listdir(test_dir)
        if osp.isfile(osp.join(test_dir, stamp, 'vis_data', 'config.py')))
    return int(Config.fromfile(dumped[-1]).test_dataloader.batch_size)


def one_run(arm: str, seed: int, *, work_root: str, data_root: str,
            extra_options: Sequence[str], threads: int, logger: MMLogger,
            report_only: bool) -> Optional[Dict]:
    """The result of ``arm``/``seed``: read from its ``result.json`` when
    a previous call finished it, else trained and tested now (None with
    ``report_only``). ``result['ran_now']`` says which."""
    work_dir = osp.join(work_root, arm, f'seed{seed}')
    os.makedirs(work_dir, exist_ok=True)
    done = osp.join(work_dir, 'result.json')
    if osp.isfile(done):
        with open(done) as f:
            result = json.load(f)
        logger.info(f'{arm} seed {seed}: finished before, skipped '
                    f'(top-1 {100 * result["top1"]:.1f} %)')
        return dict(result, ran_now=False)
    if report_only:
        logger.info(f'{arm} seed {seed}: not finished, left out')
        return None
    result = run_arm_seed(arm, seed, work_dir=work_dir, data_root=data_root,
                          extra_options=extra_options, threads=threads)
    logger.info(f'{arm} seed {seed}: top-1 {100 * result["top1"]:.1f} %, '
                f'{result["wall_s"]:.0f} s')
    return dict(result, ran_now=True)


def record_call(work_root: str, *, wall_s: float, loads: List[float],
                runs: int, jobs: int) -> List[Dict]:
    """Append this call to ``<work_root>/calls.json`` if it trained
    anything; return every recorded call that did."""
    path = osp.join(work_root, 'calls.json')
    calls = []
    if osp.isfile(path):
        with open(path) as f:
            calls = json.load(f)
    if runs:
        calls.append(dict(started=time.strftime('%Y-%m-%d %H:%M:%S'),
                          wall_s=wall_s, runs=runs, jobs=jobs,
                          load_min=min(loads), load_mean=mean(loads),
                          load_max=max(loads), cpus=os.cpu_count()))
        with open(path, 'w') as f:
            json.dump(calls, f, indent=1)
    return calls


def complexity(arm: str, work_dir: str) -> Dict:
    """Parameters and FLOPs of one clip of ``arm`` (cached in
    ``<work_dir>/complexity.json``)."""
    path = osp.join(work_dir, 'complexity.json')
    os.makedirs(work_dir, exist_ok=True)
    if osp.isfile(path):
        with open(path) as f:
            return json.load(f)
    row = measure(osp.join(CONFIG_DIR, f'{arm}.py'))
    result = dict(params=row.params, flops=row.flops,
                  input_shape=list(row.input_shape))
    with open(path, 'w') as f:
        json.dump(result, f)
    return result


def summarise(results: Dict[str, List[Dict]],
              costs: Dict[str, Dict]) -> List[Dict]:
    """One row per arm: mean and std over its seeds (std 0 for one seed)."""
    rows = []
    for arm in ARMS:
        runs = results.get(arm.name)
        if not runs:
            continue
        top1 = [100 * r['top1'] for r in runs]
        rows.append(
            dict(
                arm=arm.name,
                group=arm.group,
                what=arm.what,
                seeds=len(runs),
                top1_mean=mean(top1),
                top1_std=stdev(top1) if len(top1) > 1 else 0.0,
                top1_per_seed=' '.join(f'{v:.1f}' for v in top1),
                params_k=costs[arm.name]['params'] / 1e3,
                gflops=costs[arm.name]['flops'] / 1e9,
                train_s_per_iter=mean(r['train_s_per_iter'] for r in runs),
                test_clips_per_s=mean(r['test_clips_per_s'] for r in runs),
                peak_rss_mb=max(r['max_rss_mb'] for r in runs)))
    return rows


def write_csv(rows: List[Dict], path: str) -> None:
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def markdown(rows: List[Dict], *, chance: float, footer: str) -> str:
    """The table of the study, then ``footer`` (how it was measured)."""
    lines = [
        '| arm | config | top-1 % (mean ± std) | params (k) | GFLOPs | '
        'train s/iter | test clips/s | peak RSS (MB) |',
        '|---|---|---:|---:|---:|---:|---:|---:|'
    ]
    for row in rows:
        lines.append(
            f"| {row['what']} | `{row['arm']}` | {row['top1_mean']:.1f} ± "
            f"{row['top1_std']:.1f} | {row['params_k']:.1f} | "
            f"{row['gflops']:.4f} | {row['train_s_per_iter']:.3f} | "
            f"{row['test_clips_per_s']:.1f} | {row['peak_rss_mb']:.0f} |")
    return '\n'.join(lines) + f'\n\nChance: {chance:.1f} %. {footer}\n'


def plot(rows: List[Dict], path: str, *, chance: float) -> None:
    """Top-1 against the FLOPs each arm adds to the plain network: one
    point per arm (mean, std error bars) and one small dot per seed, so an
    arm that learns in some seeds only shows as two clusters.

    x is symmetric-log (linear below 0.01 MFLOPs): the blocks add 0.01-0.6
    MFLOPs, the deeper and wider networks 2-11."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    colours = {'baseline': 'black', 'stage': 'tab:blue',
               'number': 'tab:green', 'm/n': 'tab:purple',
               'non-local': 'tab:red', 'deeper': 'tab:grey'}
    base = next((r['gflops'] for r in rows if r['group'] == 'baseline'),
                min(r['gflops'] for r in rows))
    fig, ax = plt.subplots(figsize=(9, 6))
    for k, row in enumerate(rows):
        x = (row['gflops'] - base) * 1e3  # extra MFLOPs per clip
        colour = colours[row['group']]
        seeds = [float(v) for v in row['top1_per_seed'].split()]
        ax.scatter([x] * len(seeds), seeds, s=12, color=colour, alpha=0.35)
        ax.errorbar(x, row['top1_mean'], yerr=row['top1_std'], fmt='o',
                    capsize=3, color=colour)
        ax.annotate(row['arm'], (x, row['top1_mean']),
                    textcoords='offset points',
                    xytext=(6, 8 if k % 2 else -12), fontsize=7)
    ax.set_xscale('symlog', linthresh=0.01)
    ax.axhline(chance, linestyle='--', color='grey', linewidth=1)
    ax.text(0, chance, ' chance', va='bottom', fontsize=8, color='grey')
    for group, colour in colours.items():
        ax.plot([], [], 'o', color=colour, label=group)
    ax.legend(fontsize=8, loc='center right')
    ax.set_xlabel('MFLOPs per clip added to the plain network '
                  '(MMEngine FlopAnalyzer; symmetric log)')
    ax.set_ylabel('top-1 % on held-out clips (mean ± std; dots: seeds)')
    ax.set_title('A² ablations in miniature (long-range digits)')
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def ensure_data(data_root: str, sizes: Dict[str, int], threads: int,
                logger: MMLogger) -> int:
    """Generate the dataset into ``data_root`` unless its lists exist.

    Returns:
        int: the number of classes (lines of ``label_map.txt``).
    """
    if not osp.isfile(osp.join(data_root, 'test_list.txt')):
        logger.info(f'generating the long-range dataset in {data_root}')
        os.makedirs(data_root, exist_ok=True)
        run_tool([
            'tools/data/make_long_range_dataset.py', '--out', data_root,
            '--num-train', str(sizes['num_train']), '--num-test',
            str(sizes['num_test'])
        ], osp.join(data_root, 'generate.out'), threads)
    with open(osp.join(data_root, 'label_map.txt')) as f:
        return sum(1 for line in f if line.strip())


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='The paper\'s video ablations in miniature')
    parser.add_argument(
        '--arms', nargs='+', choices=ARM_NAMES,
        help='arms to run (default: all; --quick: baseline and stage 2)')
    parser.add_argument(
        '--seeds', nargs='+', type=int,
        help='training seeds (default: 0 1 2; --quick: 0)')
    parser.add_argument('--work-dir', default='work_dirs/ablation_mini')
    parser.add_argument(
        '--data-root',
        help='dataset (generated when missing; default: data/long_range, '
        '--quick: <work-dir>/data)')
    parser.add_argument('--out-dir', default='docs/ablation')
    parser.add_argument(
        '--threads', type=int, default=1,
        help='torch threads per run (default 1: on a shared 2-core CPU one '
        'thread is much faster than two fighting for it)')
    parser.add_argument(
        '--jobs', type=int, default=1,
        help='runs at the same time (default 1; more gives a study on a '
        'shared machine a larger share of it, but the runs then also slow '
        'each other down: compare timing columns only within one call)')
    parser.add_argument(
        '--quick', action='store_true',
        help='tiny data (16 train / 8 test clips), 1 epoch, batch 4: '
        'seconds per run, for the test suite; numbers mean nothing')
    parser.add_argument(
        '--report-only', action='store_true',
        help='train nothing: write the table of the runs finished so far')
    parser.add_argument(
        '--cfg-options', nargs='+', default=[],
        help='extra key=value overrides for every run (as in train.py)')
    args = parser.parse_args(argv)
    args.arms = args.arms or (QUICK_ARMS if args.quick else ARM_NAMES)
    args.seeds = args.seeds if args.seeds is not None else (
        [0] if args.quick else [0, 1, 2])
    if args.data_root is None:
        args.data_root = osp.join(args.work_dir, 'data') if args.quick \
            else 'data/long_range'
    return args


def main(argv: Optional[List[str]] = None) -> List[Dict]:
    args = parse_args(argv)
    work_root = osp.abspath(args.work_dir)
    data_root = osp.abspath(args.data_root)
    out_dir = osp.abspath(args.out_dir)
    os.makedirs(work_root, exist_ok=True)
    os.makedirs(out_dir, exist_ok=True)
    logger = MMLogger.get_instance(
        'ablation_study', log_file=osp.join(work_root, 'study.log'))
    started = time.perf_counter()
    loads = [os.getloadavg()[0]]
    num_classes = ensure_data(data_root,
                              QUICK_DATA if args.quick else FULL_DATA,
                              args.threads, logger)
    extra = list(args.cfg_options)
    if args.quick:
        extra += ['train_cfg.max_epochs=1', 'train_dataloader.batch_size=4',
                  'test_dataloader.batch_size=4']
    results: Dict[str, List[Dict]] = {}
    costs: Dict[str, Dict] = {}
    # seed-major: an interrupted study has every arm with its first seeds
    jobs = [(arm, seed) for seed in args.seeds for arm in args.arms]
    logger.info(f'{len(args.arms)} arms x {len(args.seeds)} seeds = '
                f'{len(jobs)} runs in {work_root}')
    for arm in args.arms:
        costs[arm] = complexity(arm, osp.join(work_root, arm))
    bar = ProgressBar(len(jobs))
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {
            pool.submit(one_run, arm, seed, work_root=work_root,
                        data_root=data_root, extra_options=extra,
                        threads=args.threads, logger=logger,
                        report_only=args.report_only): (arm, seed)
            for arm, seed in jobs
        }
        done = {}
        for future in as_completed(futures):
            done[futures[future]] = future.result()
            loads.append(os.getloadavg()[0])
            bar.update()
    for arm in args.arms:
        results[arm] = [done[arm, seed] for seed in args.seeds
                        if done[arm, seed] is not None]
    ran = [r for runs in results.values() for r in runs]
    calls = record_call(work_root, wall_s=time.perf_counter() - started,
                        loads=loads, runs=sum(r['ran_now'] for r in ran),
                        jobs=args.jobs)
    rows = summarise(results, costs)
    footer = (
        f'{len(args.arms)} arms x {len(args.seeds)} seeds '
        f'({", ".join(map(str, args.seeds))}): {len(ran)} of {len(jobs)} '
        'runs finished. ' + ' '.join(
            f'Call of {c["started"]}: {c["runs"]} runs in '
            f'{c["wall_s"] / 60:.1f} min wall time, {c["jobs"]} at a time, '
            f'1-minute load average of the machine (sampled after each '
            f'run) min {c["load_min"]:.1f} / mean {c["load_mean"]:.1f} / '
            f'max {c["load_max"]:.1f} on {c["cpus"]} CPUs.' for c in calls) +
        f' {args.threads} torch thread(s) per run. GFLOPs: one clip, '
        'MMEngine FlopAnalyzer (one multiply-add = 1 FLOP). train s/iter: '
        'mean logged iteration time after the first epoch; test clips/s: '
        'test batch size / mean logged test iteration time (data loading '
        'included); peak RSS: the training process, from wait4. Timing '
        'columns depend on the load: compare them within one table only.')
    paths = {ext: osp.join(out_dir, f'ablation.{ext}')
             for ext in ('csv', 'md', 'png')}
    write_csv(rows, paths['csv'])
    chance = 100 / num_classes
    with open(paths['md'], 'w') as f:
        f.write(markdown(rows, chance=chance, footer=footer))
    plot(rows, paths['png'], chance=chance)
    print('\n' + markdown(rows, chance=chance, footer=footer))
    logger.info('wrote ' + ', '.join(paths.values()))
    return rows


if __name__ == '__main__':
    main()
