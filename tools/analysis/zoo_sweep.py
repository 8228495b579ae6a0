"""A² across MMAction2's model zoo: every recognition config of the installed
MMAction2 (``mmaction/.mim/configs/recognition``), built as the config says
(nothing downloaded), with A² inserted at the family's default placement,
one training step on a small input, side by side with the same model
without A² (:mod:`a2mm.apis.zoo_sweep`).

Usage::

    nice python tools/analysis/zoo_sweep.py [--out docs/zoo] \\
        [--only PATTERN ...] [--rerun-failed] [--timeout 1800]

Each config runs in its own subprocess (``--one``), so a crash, an
out-of-memory kill or a hang (``--timeout``) costs one row, not the sweep.
Rows are appended to ``<out>/zoo_sweep.csv`` as they finish; a rerun skips
configs that have a row (``--rerun-failed`` reruns rows that did not train a
step; a second sweep with ``--reverse`` on another core shares the CSV).
``<out>/zoo_sweep.md`` (the table and the summary line) is rewritten
from the CSV after each row; ``--report-only`` only rewrites it.

Summary: "N of M configs, F of K families": ``M`` counts configs that do not
need a package a2mm does not install, ``N`` those that trained a step with
A² and gave the plain model's scores at init; a family counts when >= 95%
of its counted configs do.
"""
import argparse
import csv
import json
import os
import os.path as osp
import subprocess
import sys
import time
from collections import OrderedDict
from typing import Dict, List, Optional

from a2mm.apis.zoo_sweep import FIELDS, recognition_configs, sweep_config

#: share of a family's counted configs that must train a step
FAMILY_BAR = 0.95


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--root', help='folder of recognition configs '
                        '(default: the installed MMAction2\'s)')
    parser.add_argument('--out', default='docs/zoo',
                        help='folder of zoo_sweep.csv and zoo_sweep.md')
    parser.add_argument('--only', nargs='+', default=[],
                        help='run only configs whose path contains one of '
                        'these strings')
    parser.add_argument('--rerun-failed', action='store_true',
                        help='rerun rows that did not train a step')
    parser.add_argument('--timeout', type=float, default=1800,
                        help='seconds per config (default: 1800)')
    parser.add_argument('--steps', type=int, default=3,
                        help='timed training steps per model (default: 3)')
    parser.add_argument('--reverse', action='store_true',
                        help='go through the configs from the last; a '
                        'second sweep with it shares the CSV with a first')
    parser.add_argument('--report-only', action='store_true',
                        help='only rewrite zoo_sweep.md from the CSV')
    parser.add_argument('--one', nargs=3, metavar=('CONFIG', 'FAMILY',
                                                   'JSON'),
                        help=argparse.SUPPRESS)  # the per-config subprocess
    return parser.parse_args(argv)


def read_rows(path: str) -> 'OrderedDict[str, Dict]':
    """Rows of the CSV keyed by ``family/config`` (the last row of a config
    wins: reruns append)."""
    rows: 'OrderedDict[str, Dict]' = OrderedDict()
    if osp.isfile(path):
        with open(path, newline='') as f:
            for row in csv.DictReader(f):
                rows[f"{row['family']}/{row['config']}"] = row
    return rows


def append_row(path: str, row: Dict) -> None:
    new = not osp.isfile(path)
    with open(path, 'a', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS, extrasaction='ignore')
        if new:
            writer.writeheader()
        writer.writerow({k: row.get(k, '') for k in FIELDS})


def counted(row: Dict) -> bool:
    """Whether a row counts (it does not need a missing package)."""
    return 'needs ' not in row['status']


def summary(rows: List[Dict], families: List[str]) -> str:
    """The summary line (see the module doc)."""
    kept = [r for r in rows if counted(r)]
    good = [r for r in kept if r['status'] == 'trained']
    passed, uncounted = [], []
    for family in families:
        mine = [r for r in kept if r['family'] == family]
        if mine and sum(r['status'] == 'trained'
                        for r in mine) >= FAMILY_BAR * len(mine):
            passed.append(family)
        needs = sorted({r['status'] for r in rows
                        if r['family'] == family and not counted(r)})
        if not mine and needs:
            uncounted.append(f'{family}: {", ".join(needs)}')
    line = (f'{len(good)} of {len(kept)} configs, {len(passed)} of '
            f'{len(families)} families')
    return line + (f' ({"; ".join(uncounted)})' if uncounted else '')


def report(rows: List[Dict], families: List[str], total: int) -> str:
    """The Markdown page: summary, per-family counts, one row per config."""
    lines = ['# A² in MMAction2\'s model zoo', '',
             f'Produced by `python tools/analysis/zoo_sweep.py` '
             f'({len(rows)} of {total} configs swept).', '',
             f'**Summary: {summary(rows, families)}** (configs that need a '
             'package a2mm does not install are listed, not counted; a '
             f'family counts at >= {FAMILY_BAR:.0%} of its configs).', '',
             '| family | configs | trained a step | needs a package |',
             '|---|---:|---:|---|']
    for family in families:
        mine = [r for r in rows if r['family'] == family]
        needs = sorted({r['status'][len('needs '):] for r in mine
                        if not counted(r)})
        kept = [r for r in mine if counted(r)]
        trained = sum(r['status'] == 'trained' for r in kept)
        lines.append(f'| {family} | {len(kept)} | {trained} | '
                     f'{", ".join(needs)} |')
    lines += ['', 'Input: N x V x C x T x H x W (3D) or N x S x C x H x W '
              '(2D), small and fitted to the model; FLOPs of one view of '
              'it (MMEngine\'s count, one multiply-add = 1 FLOP); step '
              'ratio: median training step with A² / without, the two '
              'timed alternately; max diff: largest difference of the class '
              'scores with and without A² on the same weights at init.', '',
              '| family | config | status | backbone | A² blocks | input | '
              'params (M) | +params (M) | GFLOPs | +GFLOPs | step ratio | '
              'max diff | reason |',
              '|---|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---|']
    for r in rows:
        reason = r.get('reason', '').replace('|', '/')
        lines.append(
            f"| {r['family']} | {r['config']} | {r['status']} | "
            f"{r.get('backbone', '')} | {r.get('a2_blocks', '')} | "
            f"{r.get('input', '')} | {r.get('params_m', '')} | "
            f"{r.get('params_added_m', '')} | {r.get('gflops', '')} | "
            f"{r.get('gflops_added', '')} | {r.get('step_ratio', '')} | "
            f"{r.get('max_abs_diff', '')} | {reason} |")
    return '\n'.join(lines) + '\n'


def run_one(path: str, family: str, timeout: float, steps: int) -> Dict:
    """One config in a subprocess; a crash or a timeout is a failed row."""
    out = osp.join(os.environ.get('TMPDIR', '/tmp'),
                   f'zoo_sweep_{os.getpid()}.json')
    command = [sys.executable, osp.abspath(__file__), '--one', path, family,
               out, '--steps', str(steps)]
    row = dict(family=family, config=osp.basename(path))
    start = time.perf_counter()
    try:
        done = subprocess.run(command, timeout=timeout, capture_output=True,
                              text=True)
    except subprocess.TimeoutExpired:
        return dict(row, status='failed (timeout)',
                    reason=f'over {timeout:.0f} s', seconds=round(timeout))
    if done.returncode or not osp.isfile(out):
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ['']
        return dict(row, status='failed (crash)',
                    reason=f'exit {done.returncode}: {tail[0][:160]}',
                    seconds=round(time.perf_counter() - start, 1))
    with open(out) as f:
        result = json.load(f)
    os.remove(out)
    return result


def main(argv: Optional[List[str]] = None) -> str:
    args = parse_args(argv)
    if args.one:
        import torch
        torch.set_num_threads(1)  # one core; the machine is shared
        path, family, out = args.one
        with open(out, 'w') as f:
            json.dump(sweep_config(path, family, args.steps), f)
        return ''
    configs = recognition_configs(args.root)
    families = sorted({family for family, _ in configs})
    os.makedirs(args.out, exist_ok=True)
    csv_path = osp.join(args.out, 'zoo_sweep.csv')
    md_path = osp.join(args.out, 'zoo_sweep.md')
    rows = read_rows(csv_path)
    todo = [(f, p) for f, p in configs
            if (not args.only or any(s in p for s in args.only))]
    if not args.report_only:
        if args.reverse:
            todo = todo[::-1]
        for index, (family, path) in enumerate(todo, 1):
            key = f'{family}/{osp.basename(path)}'
            # re-read: another sweep may share the CSV (--reverse)
            rows.update(read_rows(csv_path))
            old = rows.get(key)
            if old and not (args.rerun_failed and counted(old)
                            and old['status'] != 'trained'):
                continue
            print(f'[{index}/{len(todo)}] {key} ...', flush=True)
            row = run_one(path, family, args.timeout, args.steps)
            print(f"    {row['status']} {row.get('reason', '')} "
                  f"({row.get('seconds', '?')} s)", flush=True)
            append_row(csv_path, row)
            rows[key] = {k: str(row.get(k, '')) for k in FIELDS}
            write_report(md_path, rows, families, len(configs))
    line = summary(list(rows.values()), families)
    write_report(md_path, rows, families, len(configs))
    print(line)
    return line


def write_report(path: str, rows: 'OrderedDict[str, Dict]',
                 families: List[str], total: int) -> None:
    ordered = [rows[k] for k in sorted(rows)]
    with open(path, 'w') as f:
        f.write(report(ordered, families, total))


if __name__ == '__main__':
    main()
