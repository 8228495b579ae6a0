"""tools/analysis/ablation_study.py --quick, end to end through
tools/train.py and tools/test.py: table, CSV and PNG with one row per arm,
and a second call that skips the finished arm/seeds."""
import csv
import json
import os

import numpy as np
import pytest

from tests.helpers.tools import load_tool

study = load_tool('tools/analysis/ablation_study.py')
make_data = load_tool('tools/data/make_long_range_dataset.py')


def tiny_long_range_data(root):
    """8 train / 4 test clips over a synthetic background (no video
    decoding), real digit scans; the layout the tool writes."""
    (train_x, train_y), (test_x, test_y) = make_data.split_digits(0)
    rng = np.random.default_rng(0)
    background = rng.integers(0, 255, (12, 64, 64, 3), dtype=np.uint8)
    for split, num, x, y in (('train', 8, train_x, train_y),
                             ('test', 4, test_x, test_y)):
        make_data.make_split(str(root), split, num=num, num_digits=2,
                             images=x, labels=y, backgrounds=[background],
                             rng=rng)
    (root / 'label_map.txt').write_text('0\n1\n')


def stamps(work_dir):
    """Timestamped run folders of every run under ``work_dir``."""
    return sorted(dirpath for dirpath, dirs, _ in os.walk(work_dir)
                  if 'vis_data' in dirs)


@pytest.mark.slow
def test_quick_study_writes_outputs_and_resumes(tmp_path):
    data, work, out = tmp_path / 'data', tmp_path / 'work', tmp_path / 'out'
    data.mkdir()
    tiny_long_range_data(data)
    argv = ['--quick', '--work-dir', str(work), '--out-dir', str(out),
            '--data-root', str(data)]
    rows = study.main(argv)

    assert [r['arm'] for r in rows] == study.QUICK_ARMS
    with open(out / 'ablation.csv') as f:
        table = list(csv.DictReader(f))
    assert [r['arm'] for r in table] == study.QUICK_ARMS
    base, a2 = table
    # the A² arm costs more than the plain one (one block, stage 2)
    assert float(a2['params_k']) > float(base['params_k'])
    assert float(a2['gflops']) > float(base['gflops'])
    for row in table:
        assert 0 <= float(row['top1_mean']) <= 100
        assert int(row['seeds']) == 1
        assert float(row['train_s_per_iter']) > 0
        assert float(row['test_clips_per_s']) > 0
        assert float(row['peak_rss_mb']) > 10
    md = (out / 'ablation.md').read_text()
    for arm in study.QUICK_ARMS:
        assert f'`{arm}`' in md
    assert 'Chance: 50.0 %' in md
    assert (out / 'ablation.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    results = {arm: json.loads((work / arm / 'seed0' /
                                'result.json').read_text())
               for arm in study.QUICK_ARMS}
    assert [float(r['top1_mean']) for r in table] == [
        100 * results[arm]['top1'] for arm in study.QUICK_ARMS]

    # a second call trains and tests nothing: same runs, same numbers
    before = stamps(work)
    assert len(before) == 2 * len(study.QUICK_ARMS)  # train + test each
    again = study.main(argv)
    assert stamps(work) == before
    assert [r['top1_mean'] for r in again] == [r['top1_mean'] for r in rows]
    # only the first call trained: one call recorded, with both runs
    calls = json.loads((work / 'calls.json').read_text())
    assert [c['runs'] for c in calls] == [2]

    # --report-only with a seed not run yet: table of what is finished
    partial = study.main(argv + ['--seeds', '0', '1', '--report-only'])
    assert stamps(work) == before
    assert [r['seeds'] for r in partial] == [1, 1]
    assert '2 of 4 runs finished' in (out / 'ablation.md').read_text()
