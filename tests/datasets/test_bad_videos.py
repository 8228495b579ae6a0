"""Bad and short videos (issue 5 item 1, issue 10 items 5, 8, 9, 11),
written and broken for real in tmp_path: missing, zero-byte, text renamed
.mp4, truncated MP4 and AVI, corrupt payload, 1x1 and 4x16 pixels; one
frame and shorter than one clip (used, looped)."""
import os.path as osp
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmaction.datasets.transforms import SampleFrames
from mmaction.registry import DATASETS
from mmengine.registry import init_default_scope

import a2mm  # noqa: F401
from a2mm.datasets import (FILENAME_KEY, LOOPED_KEY, REPLACED_KEY,
                           SKIPPED_KEY, BadVideoError)
from a2mm.datasets.clip_span import clip_span
from tests.helpers.data import FAULTS, SHORT, make_fault_videos, write_list


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


@pytest.mark.parametrize('test_mode', [False, True])
def test_short_videos_are_looped_as_mmaction_does(videos, tmp_path,
                                                  test_mode):
    """A video shorter than one clip (span 7 here) is used by default, with
    exactly the frames MMAction2's VideoDataset gives it, and tagged."""
    root, files = videos
    names = ['short', 'one_frame']  # no 'good 0.mp4': upstream splits it
    data = build(root, names, files, tmp_path, test_mode=test_mode)
    upstream = DATASETS.build(
        dict(type='VideoDataset', ann_file=data.ann_file,
             data_prefix=dict(video=root), pipeline=pipeline(test_mode),
             test_mode=test_mode))
    for idx, name in enumerate(names):
        np.random.seed(idx)
        ours = data[idx]
        np.random.seed(idx)
        theirs = upstream[idx]
        assert torch.equal(ours['inputs'], theirs['inputs']), name
        meta = ours['data_samples'].metainfo
        assert meta[FILENAME_KEY] == osp.join(root, files[name])
        assert meta[LOOPED_KEY] == dict(
            path=osp.join(root, files[name]), frames=SHORT[name], span=7)
    good = build(root, ['good0'], files, tmp_path, test_mode=test_mode)[0]
    assert LOOPED_KEY not in good['data_samples'].metainfo


@pytest.mark.parametrize('clip_len, interval, num_clips, test_mode',
                         [(4, 2, 1, False), (4, 2, 3, True), (8, 8, 1, False),
                          (8, 8, 10, True), (3, 1, 2, False)])
def test_clip_span_is_where_sample_frames_starts_to_loop(
        clip_len, interval, num_clips, test_mode):
    """total < clip_span exactly when one of SampleFrames' frame indices
    (clip offset + k * frame_interval, before its modulo) runs past the
    video, in training (random offsets) and testing."""
    span = clip_span(clip_len, interval)
    sampler = SampleFrames(clip_len, interval, num_clips,
                           test_mode=test_mode)
    for total in range(1, span + 30):
        for seed in range(5):
            np.random.seed(seed)
            offsets = sampler._sample_clips(
                total, sampler._get_ori_clip_len(1.0))
            last = int(np.max(offsets)) + (clip_len - 1) * interval
            assert (last >= total) == (total < span), (total, seed)


def test_strict_short_videos_are_bad(videos, tmp_path):
    root, files = videos
    data = build(root, ['good0', 'short', 'one_frame'], files, tmp_path,
                 test_mode=True, loop_short_videos=False)
    assert data[0]['inputs'].shape == (1, 3, 4, 24, 24)
    for idx, frames in ((1, 5), (2, 1)):
        with pytest.raises(BadVideoError) as info:
            data[idx]
        assert f'has {frames} frame(s), fewer than one clip needs (one clip '\
            'spans 7 frames: clip_len=4, frame_interval=2; '\
            'loop_short_videos=False)' in str(info.value)
    data = build(root, ['short', 'good0'], files, tmp_path, test_mode=True,
                 min_frames=6)
    with pytest.raises(BadVideoError, match='fewer than min_frames=6'):
        data[0]
    assert data[1]['inputs'].shape == (1, 3, 4, 24, 24)


def test_narrow_video_decoded_frame_by_frame(videos, tmp_path):
    """DecordDecode(mode='efficient') reads frame by frame, where decord
    0.6.0 returns a 4x16 frame as a (16, 4, 24) array with no error."""
    root, files = videos
    ann = write_list(str(tmp_path / 'list.txt'), [(files['narrow'], 0)])
    steps = pipeline(True)
    steps[2] = dict(type='DecordDecode', mode='efficient')
    del steps[3]  # no crop: 4 pixels wide
    data = DATASETS.build(
        dict(type='RobustVideoDataset', ann_file=ann, test_mode=True,
             data_prefix=dict(video=root), pipeline=steps))
    with pytest.raises(BadVideoError) as info:
        data[0]
    assert 'decoded its frames with shape (16, 4, 24), not (height, width, '\
        '3)' in str(info.value)


def test_truncated_avi_crashes_decord_from_memory_only(videos):
    """The upstream bug behind the container check: decord 0.6.0 reading a
    truncated AVI from memory (MMAction2's DecordInit) kills the process;
    by path it does not."""
    root, files = videos
    path = osp.join(root, files['truncated_avi'])
    code = ('import decord, io, sys; src = sys.argv[1]; '
            'src = io.BytesIO(open(src, "rb").read()) if sys.argv[2] == "mem"'
            ' else src; print(len(decord.VideoReader(src, num_threads=1)))')
    by_path, from_memory = (subprocess.run(
        [sys.executable, '-c', code, path, mode], capture_output=True,
        timeout=120) for mode in ('path', 'mem'))
    assert from_memory.returncode == -signal.SIGSEGV
    assert by_path.returncode == 0 and int(by_path.stdout) > 0


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
