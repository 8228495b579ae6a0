"""a2mm after a non-editable install from a wheel: its configs and tools
travel in ``a2mm/.mim`` and a user's two-line config in an empty folder
trains and tests through the console scripts, as a child of
``a2mm::...`` and as a child of an ``mmaction::...`` config with A² blocks.

The wheel is built from a copy of the checkout and installed with
``--no-deps`` into a fresh venv that sees the running interpreter's
packages (nothing is downloaded)."""
import glob
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile

import pytest
import torch

import a2mm  # noqa: F401  (allow-lists MMEngine checkpoints for torch.load)
from tests.helpers.configs import dataloader_override
from tests.helpers.data import NUM_CLASSES, make_videos
from tests.helpers.tools import REPO, run_tool

MM_I3D = ('mmaction::recognition/i3d/i3d_imagenet-pretrained-r50_8xb8-'
          '32x2x1-100e_kinetics400-rgb.py')
TINY_BACKBONE = (
    "dict(_delete_=True, type='A2ResNet3d', depth=18, base_channels=8, "
    "num_stages=2, out_indices=(1, ), spatial_strides=(1, 2), "
    "temporal_strides=(1, 1), dilations=(1, 1), conv1_stride_t=1, "
    "pool1_stride_t=1, inflate=(1, 1), a2=((0, 0), (0, 1)), "
    "pretrained=None, pretrained2d=False)")
TINY_PIPELINES = '''
train_pipeline = [dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1),
    dict(type='DecordDecode'), dict(type='Resize', scale=(-1, 32)),
    dict(type='CenterCrop', crop_size=32), dict(type='FormatShape',
    input_format='NCTHW'), dict(type='PackActionInputs')]
test_pipeline = [dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=2,
         test_mode=True),
    dict(type='DecordDecode'), dict(type='Resize', scale=(-1, 32)),
    dict(type='ThreeCrop', crop_size=32), dict(type='FormatShape',
    input_format='NCTHW'), dict(type='PackActionInputs')]
'''


@pytest.fixture(scope='module')
def wheel_venv(tmp_path_factory):
    """(venv python, bin folder) with a2mm installed from its wheel."""
    tmp = tmp_path_factory.mktemp('wheel')
    src = tmp / 'src'
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(
        '.git', '.venv', 'build', 'dist', '*.egg-info', '__pycache__',
        '.mim', 'work_dirs', 'data', '.pytest_cache'))
    run_tool([sys.executable, '-m', 'pip', 'wheel', '--no-deps',
              '--no-build-isolation', '-q', '-w', str(tmp / 'dist'),
              str(src)], cwd=str(tmp), checkout=False)
    wheel, = glob.glob(str(tmp / 'dist' / 'a2mm-*.whl'))
    venv = tmp / 'venv'
    run_tool([sys.executable, '-m', 'venv', '--without-pip', str(venv)],
             cwd=str(tmp), checkout=False)
    python = str(venv / 'bin' / 'python')
    purelib = subprocess.check_output(
        [python, '-c', 'import sysconfig; print(sysconfig.get_path('
         '"purelib"))'], text=True).strip()
    # the running interpreter's packages (the shared stack), after the
    # venv's own, without their .pth files (so no editable a2mm)
    with open(osp.join(purelib, 'shared_stack.pth'), 'w') as f:
        f.write('\n'.join(dict.fromkeys(
            [sysconfig.get_path('purelib'), sysconfig.get_path('platlib')])))
    run_tool([sys.executable, '-m', 'pip', '--python', python, 'install',
              '-q', '--no-deps', wheel], cwd=str(tmp), checkout=False)
    return python, str(venv / 'bin'), wheel, tmp


@pytest.mark.slow
def test_wheel_ships_configs_and_tools(wheel_venv):
    python, _, wheel, tmp = wheel_venv
    names = zipfile.ZipFile(wheel).namelist()
    assert 'a2mm/.mim/configs/a2_r50_kinetics.py' in names
    assert 'a2mm/.mim/configs/_base_/models/a2_i3d_r50.py' in names
    assert 'a2mm/.mim/tools/train.py' in names
    # the model index that `mim search a2mm` reads, and what it imports
    assert {'a2mm/.mim/model-index.yml', 'a2mm/.mim/configs/metafile.yml',
            'a2mm/.mim/configs/ablations/metafile.yml'} <= set(names)
    assert not any('__pycache__' in name for name in names)
    # the installed a2mm is the wheel's, not the checkout
    where = run_tool([python, '-c', 'import a2mm, a2mm.mim as m; '
                      'print(a2mm.__file__); print(m.shipped_dir("tools"))'],
                     cwd=str(tmp), checkout=False)
    assert REPO not in where and '.mim/tools' in where


@pytest.mark.slow
@pytest.mark.parametrize('kind', ['a2mm', 'mmaction'])
def test_child_config_trains_and_tests_from_empty_folder(wheel_venv, kind):
    _, bin_dir, _, tmp = wheel_venv
    work = tmp / f'user_{kind}'
    work.mkdir()
    data = str(work / 'data')
    make_videos(data, 'train', 6)
    make_videos(data, 'test', 3)
    if kind == 'a2mm':
        head = ("_base_ = ['a2mm::embedded/a2_tiny_embedded.py']\n"
                f'model = dict(cls_head=dict(num_classes={NUM_CLASSES}))\n')
    else:
        head = (f'_base_ = [{MM_I3D!r}]\n'
                "custom_imports = dict(imports=['a2mm'], "
                'allow_failed_imports=False)\n'
                f'model = dict(backbone={TINY_BACKBONE}, cls_head=dict('
                f'num_classes={NUM_CLASSES}, in_channels=16))\n' +
                TINY_PIPELINES)
    extra = {} if kind == 'a2mm' else dict(
        train=', pipeline=train_pipeline', test=', pipeline=test_pipeline')
    text = (head + 'train_cfg = dict(max_epochs=1, val_interval=1)\n'
            'param_scheduler = []\n'
            'default_hooks = dict(logger=dict(interval=1))\n' +
            dataloader_override('train_dataloader', 'data/train_list.txt',
                                'data/train',
                                dataset_extra=extra.get('train', '')) +
            dataloader_override('val_dataloader', 'data/test_list.txt',
                                'data/test',
                                dataset_extra=extra.get('test', '')) +
            dataloader_override('test_dataloader', 'data/test_list.txt',
                                'data/test',
                                dataset_extra=extra.get('test', '')))
    (work / 'my_exp.py').write_text(text)
    log = run_tool([osp.join(bin_dir, 'a2mm-train'), 'my_exp.py',
                    '--work-dir', 'work', '--seed', '0'], cwd=str(work),
                   checkout=False)
    assert 'Epoch(train) [1][3/3]' in log
    checkpoint = work / 'work' / 'epoch_1.pth'
    assert checkpoint.is_file()
    log = run_tool([osp.join(bin_dir, 'a2mm-test'), 'my_exp.py',
                    str(checkpoint), '--work-dir', 'test_work'],
                   cwd=str(work), checkout=False)
    top1 = re.search(r'Epoch\(test\).*acc/top1: ([\d.]+)', log)
    assert top1 and 0 <= float(top1.group(1)) <= 1, log[-3000:]
    state = torch.load(str(checkpoint), weights_only=True)
    assert any('a2_block' in key for key in state['state_dict'])
