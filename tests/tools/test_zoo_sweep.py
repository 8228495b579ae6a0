"""tools/analysis/zoo_sweep.py on a handful of tiny configs in a zoo-like
folder (<family>/<config>.py): each config in its own subprocess, rows in a
CSV that a rerun resumes, a Markdown table with the summary line; a config
that needs a package a2mm does not install is listed, not counted."""
import csv
from pathlib import Path

import pytest

from tests.helpers.tools import run_tool

HEAD = "data_preprocessor=dict(type='ActionDataPreprocessor', " \
       "format_shape='{fmt}')"
CONFIGS = {
    # TSN-like: a 2D ResNet-18 over 4 segments (temporal A² by default)
    'tsn/tsn_r18_tiny.py': """
model = dict(type='Recognizer2D',
             backbone=dict(type='ResNet', depth=18,
                           pretrained='https://example.invalid/r18.pth'),
             cls_head=dict(type='TSNHead', num_classes=5, in_channels=512),
             {head})
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=4)]))
""".format(head=HEAD.format(fmt='NCHW')),
    'i3d/i3d_r18_tiny.py': """
model = dict(type='Recognizer3D',
             backbone=dict(type='ResNet3d', depth=18, pretrained=None,
                           pretrained2d=False),
             cls_head=dict(type='I3DHead', num_classes=5, in_channels=512),
             {head})
""".format(head=HEAD.format(fmt='NCTHW')),
    'tsn/tsn_densenet_tiny.py': """
model = dict(type='Recognizer2D',
             backbone=dict(type='torchvision.densenet161', pretrained=True),
             cls_head=dict(type='TSNHead', num_classes=5, in_channels=2208),
             {head})
""".format(head=HEAD.format(fmt='NCHW')),
    'broken/bad_depth.py': """
model = dict(type='Recognizer3D',
             backbone=dict(type='ResNet3d', depth=7, pretrained=None),
             cls_head=dict(type='I3DHead', num_classes=5, in_channels=512),
             {head})
""".format(head=HEAD.format(fmt='NCTHW')),
}


def rows_of(path: Path):
    with open(path, newline='') as f:
        return {r['config']: r for r in csv.DictReader(f)}


@pytest.mark.slow
def test_sweep_tiny_zoo(tmp_path):
    pytest.importorskip('mmaction')
    try:
        import torchvision  # noqa: F401
        pytest.skip('torchvision installed: the densenet row would train')
    except ImportError:
        pass
    root, out = tmp_path / 'recognition', tmp_path / 'docs'
    for name, text in CONFIGS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    log = run_tool(['python', 'tools/analysis/zoo_sweep.py', '--root',
                    str(root), '--out', str(out), '--steps', '1'],
                   timeout=600)
    assert '[4/4]' in log  # progress
    rows = rows_of(out / 'zoo_sweep.csv')
    assert set(rows) == {Path(n).name for n in CONFIGS}
    tsn, i3d = rows['tsn_r18_tiny.py'], rows['i3d_r18_tiny.py']
    for row in (tsn, i3d):
        assert row['status'] == 'trained', row
        assert float(row['max_abs_diff']) == 0  # identity at init
        assert float(row['params_added_m']) > 0
        assert float(row['gflops_added']) > 0
        assert float(row['step_ratio']) > 0
    assert tsn['a2_blocks'] == i3d['a2_blocks'] == '2'  # res3.1, res4.1
    assert tsn['input'] == '2x4x3x64x64'  # 4 segments, from SampleFrames
    assert rows['tsn_densenet_tiny.py']['status'] == 'needs torchvision'
    bad = rows['bad_depth.py']
    assert bad['status'] == 'failed (build)' and bad['reason'], bad
    line = '2 of 3 configs, 2 of 3 families'
    assert log.strip().splitlines()[-1] == line
    page = (out / 'zoo_sweep.md').read_text()
    assert f'**Summary: {line}**' in page
    assert '| tsn | 1 | 1 | torchvision |' in page

    # resumable: a rerun runs nothing and appends nothing
    again = run_tool(['python', 'tools/analysis/zoo_sweep.py', '--root',
                      str(root), '--out', str(out)], timeout=300)
    assert '[' not in again and again.strip().splitlines()[-1] == line
    assert len((out / 'zoo_sweep.csv').read_text().splitlines()) == 5
