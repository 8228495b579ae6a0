"""Bad videos (issue 5 item 1), written and broken for real in tmp_path:
missing, zero-byte, text renamed .mp4, truncated MP4, corrupt payload,
one frame, shorter than one clip."""
import numpy as np
import pytest
from mmaction.registry import DATASETS
from mmengine.registry import init_default_scope

import a2mm  # noqa: F401
from a2mm.datasets import REPLACED_KEY, SKIPPED_KEY, BadVideoError
from tests.fault_helpers import FAULTS, make_fault_videos, write_list


init_default_scope('mmaction')  # as the runner does; transforms are found


def pipeline(test_mode):
    return [
        dict(type='DecordInit', num_threads=1),
        dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1,
             test_mode=test_mode),
        dict(type='DecordDecode'),
        dict(type='CenterCrop', crop_size=24),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs')
    ]


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp('videos')
    return str(root), make_fault_videos(str(root), good=4)


def build(root, names, files, tmp_path, test_mode, **kwargs):
    ann = write_list(str(tmp_path / 'list.txt'),
                     [(files[n], i % 4) for i, n in enumerate(names)])
    return DATASETS.build(
        dict(type='RobustVideoDataset', ann_file=ann,
             data_prefix=dict(video=root), pipeline=pipeline(test_mode),
             test_mode=test_mode, **kwargs))


@pytest.mark.parametrize('fault', sorted(FAULTS))
def test_test_mode_error_names_file_and_cause(videos, tmp_path, fault):
    root, files = videos
    data = build(root, ['good0', fault], files, tmp_path, test_mode=True)
    assert data[0]['inputs'].shape == (1, 3, 4, 24, 24)
    with pytest.raises(BadVideoError) as info:
        data[1]
    message = str(info.value)
    assert files[fault] in message and 'line 2' in message
    assert FAULTS[fault] in message, message
    assert 'skip_bad_videos=True' in message


def test_min_frames_one_accepts_short_videos(videos, tmp_path):
    root, files = videos
    data = build(root, ['short', 'one_frame'], files, tmp_path,
                 test_mode=True, min_frames=1)
    assert data[0]['inputs'].shape == (1, 3, 4, 24, 24)  # looped
    assert data[1]['inputs'].shape == (1, 3, 4, 24, 24)


def test_training_replaces_bad_samples(videos, tmp_path):
    root, files = videos
    np.random.seed(0)  # stand-ins are drawn at random
    names = ['good0', 'good1'] + sorted(FAULTS)
    data = build(root, names, files, tmp_path, test_mode=False,
                 max_bad_retries=100)
    for idx in range(len(names)):
        sample = data[idx]
        assert sample['inputs'].shape == (1, 3, 4, 24, 24)
        replaced = sample['data_samples'].metainfo.get(REPLACED_KEY, [])
        if idx >= 2:
            assert replaced, 'a bad sample came back unreported'
            assert replaced[0]['path'].endswith(files[names[idx]])
            assert FAULTS[names[idx]] in replaced[0]['reason']
        else:
            assert not replaced
        for item in replaced:  # stand-ins can be bad too: all are reported
            assert 'good' not in item['path']


def test_training_gives_up_after_max_bad_retries(videos, tmp_path):
    root, files = videos
    data = build(root, sorted(FAULTS), files, tmp_path, test_mode=False,
                 max_bad_retries=3)
    with pytest.raises(BadVideoError, match='4 videos in a row') as info:
        data[0]
    assert 'max_bad_retries=3' in str(info.value)


def test_test_mode_skip_tags_a_stand_in(videos, tmp_path):
    root, files = videos
    data = build(root, ['good0', 'empty', 'text', 'good1'], files, tmp_path,
                 test_mode=True, skip_bad_videos=True)
    assert SKIPPED_KEY not in data[0]['data_samples'].metainfo
    for idx, fault in ((1, 'empty'), (2, 'text')):
        sample = data[idx]
        skipped = sample['data_samples'].metainfo[SKIPPED_KEY]
        assert skipped['path'].endswith(files[fault])
        assert FAULTS[fault] in skipped['reason']
        assert sample['inputs'].shape == (1, 3, 4, 24, 24)


def test_pipeline_errors_after_decoding_are_not_bad_videos(videos, tmp_path):
    """A wrong augmentation is a config bug: it must not be swallowed as a
    bad video in training."""
    root, files = videos
    ann = write_list(str(tmp_path / 'list.txt'), [(files['good0'], 0)])
    steps = pipeline(False)
    steps.insert(3, dict(type='CenterCrop', crop_size=999))
    steps.insert(4, dict(type='Resize', scale=(0, 0), keep_ratio=False))
    data = DATASETS.build(
        dict(type='RobustVideoDataset', ann_file=ann,
             data_prefix=dict(video=root), pipeline=steps))
    with pytest.raises(Exception) as info:
        data[0]
    assert not isinstance(info.value, BadVideoError)
    assert any(files['good0'] in note
               for note in getattr(info.value, '__notes__', []))
