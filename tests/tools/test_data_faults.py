"""Bad data through the real tools in subprocesses (issue 10 items 8, 9
and 11, issue 18 item 3): a truncated AVI in the training list of
``tools/train.py`` with a DataLoader worker, MP4s whose index was crafted to
crash decord in training (with and without workers) and testing, and
``tools/test.py --skip-bad-videos --dump`` on a list whose bad videos are
skipped."""
import os.path as osp
import pickle

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.registry import DefaultScope

import a2mm  # noqa: F401
from a2mm.apis.inference import class_label

from tests.helpers.configs import tiny_recognizer_config
from tests.helpers.data import (FAULTS, MP4_INDEX_FAULTS, make_fault_videos,
                                write_list)
from tests.helpers.tools import run_tool


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('data_faults')
    root = str(tmp / 'videos')
    files = make_fault_videos(root, good=4)
    return tmp, root, files


def write_config(tmp, root, train_entries, test_entries, name, workers=1):
    train = write_list(str(tmp / f'{name}_train.txt'), train_entries)
    test = write_list(str(tmp / f'{name}_test.txt'), test_entries)
    cfg = Config(tiny_recognizer_config(str(tmp / f'{name}_work'), root,
                                        train, test))
    cfg.merge_from_dict({'train_cfg.max_iters': 4,
                         'train_dataloader.num_workers': workers,
                         'train_dataloader.persistent_workers': False,
                         'test_dataloader.num_workers': workers})
    cfg.custom_imports = dict(imports=['a2mm'], allow_failed_imports=False)
    path = str(tmp / f'{name}.py')
    cfg.dump(path)
    return path, str(tmp / f'{name}_work')


def test_truncated_avi_does_not_end_training(data):
    """decord segfaults on this file read from memory (MMAction2's
    DecordInit): the worker used to die ("killed by signal: Segmentation
    fault"). It is caught before decord, replaced and named."""
    tmp, root, files = data
    entries = [(files[f'good{i}'], i) for i in range(4)]
    entries += [(files['truncated_avi'], 0)] * 3
    config, work = write_config(tmp, root, entries, entries[:4], 'avi')
    log = run_tool(['python', 'tools/train.py', config])
    assert osp.isfile(osp.join(work, 'iter_4.pth'))
    named = [line for line in log.splitlines()
             if 'bad video, replaced by another sample' in line]
    assert len(named) == 1 and files['truncated_avi'] in named[0]
    assert FAULTS['truncated_avi'] in named[0]
    assert 'Segmentation fault' not in log


def test_skipped_videos_and_dump_rows_name_their_video(data):
    """30 missing videos in a row and a truncated one are skipped and
    counted; each dumped row carries its video's path, so the rows line up
    with the list without the skipped ones."""
    tmp, root, files = data
    good = [(files[f'good{i}'], i) for i in range(4)]
    test = ([(f'gone {i:02d}.mp4', 0) for i in range(30)] + good[:2] +
            [(files['truncated_mp4'], 1)] + good[2:] +
            [(files['short'], 3)])
    config, work = write_config(tmp, root, good, test, 'dump')
    checkpoint = str(tmp / 'untrained.pth')  # the scores do not matter
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(Config.fromfile(config).model)
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, checkpoint)
    dump = str(tmp / 'scores.pkl')
    log = run_tool(['python', 'tools/test.py', config, checkpoint,
                    '--skip-bad-videos', '--dump', dump])
    assert '31 of 36 videos could not be read and are NOT counted' in log
    assert 'test: 1 of 36 video(s) are shorter than one clip' in log
    with open(dump, 'rb') as f:
        rows = pickle.load(f)
    expected = [osp.join(root, name) for name, _ in good + [test[-1]]]
    assert [row['filename'] for row in rows] == expected
    assert [class_label(row) for row in rows] == [0, 1, 2, 3, 3]
    assert rows[-1]['looped_video']['frames'] == 5


CRAFTED = [f'mp4_{name}' for name in sorted(MP4_INDEX_FAULTS)]


@pytest.mark.slow
@pytest.mark.parametrize('workers', [0, 1])
def test_crafted_mp4s_do_not_end_training_or_testing(data, workers):
    """decord dies on these files (SIGSEGV: the run with num_workers=0,
    "DataLoader worker killed by signal" with workers; SIGABRT on the stts
    count). The container check keeps them from decord: training replaces
    each and names it, testing with --skip-bad-videos skips and counts
    them."""
    tmp, root, files = data
    good = [(files[f'good{i}'], i) for i in range(4)]
    crafted = [(files[name], 0) for name in CRAFTED]
    config, work = write_config(tmp, root, good + crafted, good + crafted,
                                f'crafted{workers}', workers=workers)
    log = run_tool(['python', 'tools/train.py', config])
    assert osp.isfile(osp.join(work, 'iter_4.pth'))
    named = [line for line in log.splitlines()
             if 'bad video, replaced by another sample' in line]
    # 4 iterations of 2 samples: one pass over the 8 videos, each crafted
    # one met and named once (with its cause), as the hook logs each path
    for name in CRAFTED:
        lines = [line for line in named if files[name] in line]
        assert len(lines) == 1 and FAULTS[name] in lines[0], name
    assert 'killed by signal' not in log
    log = run_tool(['python', 'tools/test.py', config,
                    osp.join(work, 'iter_4.pth'), '--skip-bad-videos'])
    assert f'{len(CRAFTED)} of {len(good) + len(CRAFTED)} videos could not ' \
        'be read and are NOT counted' in log
    for name in CRAFTED:
        assert files[name] in log
