"""tools/data: UCF-101 and Kinetics-400 list builders on fake official files,
the parallel video checker, and exclusion of the files it reports."""
import os
import os.path as osp
import shutil
import signal

import pytest

from a2mm.datasets import read_exclusions, read_video_report
from tests.helpers.data import make_videos
from tests.helpers.tools import load_tool

build_ucf101 = load_tool('tools/data/build_ucf101_lists.py')
build_kinetics = load_tool('tools/data/build_kinetics_lists.py')
check_videos = load_tool('tools/data/check_videos.py')

UCF_CLASSES = ['ApplyEyeMakeup', 'Archery', 'YoYo']


def _write(path, text):
    with open(path, 'w', newline='') as f:
        f.write(text)
    return str(path)


def _official_ucf101(folder):
    folder.mkdir()
    _write(folder / 'classInd.txt',
           ''.join(f'{i} {c}\n' for i, c in enumerate(UCF_CLASSES, 1)))
    for split in (1, 2, 3):
        _write(folder / f'trainlist0{split}.txt',
               f'ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c0{split}.avi 1\r\n'
               f'YoYo/v_YoYo_g09_c01.avi 3\r\n'
               'Archery/v_Archery_g10_c01.avi 2\r\n')
        _write(folder / f'testlist0{split}.txt',
               'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi\n'
               f'YoYo/v_YoYo_g0{split}_c02.avi\n')
    return str(folder)


def test_ucf101_lists_and_label_map(tmp_path):
    official = _official_ucf101(tmp_path / 'official')
    out = str(tmp_path / 'out')
    build_ucf101.main(['--official-dir', official, '--out', out])
    assert open(osp.join(out, 'label_map_ucf101.txt')).read().split() == \
        UCF_CLASSES
    train = open(osp.join(out, 'ucf101_train_split_2_videos.txt')).read()
    assert train.splitlines() == [
        'ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c02.avi 0',
        'YoYo/v_YoYo_g09_c01.avi 2', 'Archery/v_Archery_g10_c01.avi 1'
    ]
    val = open(osp.join(out, 'ucf101_val_split_3_videos.txt')).read()
    assert val.splitlines() == [
        'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi 0',
        'YoYo/v_YoYo_g03_c02.avi 2'
    ]


def test_ucf101_exclusions_and_errors(tmp_path):
    official = _official_ucf101(tmp_path / 'official')
    report = _write(tmp_path / 'bad.txt',
                    '# check_videos.py report\n'
                    'YoYo/v_YoYo_g09_c01.avi\tunreadable: broken\n')
    out = str(tmp_path / 'out')
    build_ucf101.main(['--official-dir', official, '--out', out, '--splits',
                       '1', '--exclude', report])
    train = open(osp.join(out, 'ucf101_train_split_1_videos.txt')).read()
    assert train.splitlines() == [
        'ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 0',
        'Archery/v_Archery_g10_c01.avi 1']  # YoYo's video left out
    # a label that disagrees with its class folder names file and line
    _write(osp.join(official, 'trainlist01.txt'),
           'Archery/v_Archery_g10_c01.avi 2\nYoYo/v_YoYo_g09_c01.avi 1\n')
    with pytest.raises(ValueError, match=r'trainlist01.txt, line 2'):
        build_ucf101.main(['--official-dir', official, '--out', out])


KINETICS_HEADER = 'label,youtube_id,time_start,time_end,split,is_cc\n'


def test_kinetics_lists_keep_existing_videos(tmp_path):
    train_csv = _write(
        tmp_path / 'train.csv', KINETICS_HEADER +
        'zumba,aaa,10,20,train,0\n"playing guitar",bbb,0,10,train,0\n'
        'abseiling,ccc,5,15,train,0\n')
    val_csv = _write(tmp_path / 'val.csv',
                     KINETICS_HEADER + 'abseiling,ddd,1,11,val,0\n'
                     'zumba,eee,2,12,val,0\n')
    videos = tmp_path / 'videos'
    (videos / 'zumba').mkdir(parents=True)
    (videos / 'zumba' / 'aaa_000010_000020.mp4').write_bytes(b'x')
    (videos / 'abseiling').mkdir()
    (videos / 'abseiling' / 'ccc_000005_000015.mp4').write_bytes(b'x')
    report = _write(tmp_path / 'bad.txt',
                    'abseiling/ccc_000005_000015.mp4\ttoo short\n')
    out = str(tmp_path / 'out')
    build_kinetics.main([
        '--train-csv', train_csv, '--val-csv', val_csv, '--layout',
        'by_class', '--video-dir-train', str(videos), '--out', out,
        '--exclude', report
    ])
    assert open(osp.join(out, 'label_map_k400.txt')).read().splitlines() == \
        ['abseiling', 'playing guitar', 'zumba']
    # bbb is not on disk, ccc is excluded by the report
    assert open(osp.join(out, 'kinetics400_train_list_videos.txt')).read() \
        == 'zumba/aaa_000010_000020.mp4 2\n'
    # no --video-dir-val: every row is listed, flat names would differ
    assert open(osp.join(out, 'kinetics400_val_list_videos.txt')).read() \
        .splitlines() == ['abseiling/ddd_000001_000011.mp4 0',
                          'zumba/eee_000002_000012.mp4 2']


def test_kinetics_csv_errors_name_file(tmp_path):
    bad = _write(tmp_path / 'train.csv', 'label,youtube_id\nzumba,aaa\n')
    with pytest.raises(ValueError, match=r"train.csv: missing columns"):
        build_kinetics.main(['--train-csv', bad, '--val-csv', bad,
                             '--out', str(tmp_path / 'out')])


def test_check_videos_reports_bad_files_in_parallel(tmp_path, capsys):
    root = tmp_path / 'videos'
    make_videos(str(root), 'ok', 3, num_frames=16)
    ok = root / 'ok'
    (ok / 'empty.mp4').write_bytes(b'')
    (ok / 'text.mp4').write_text('not a video')
    data = (ok / 'v0.mp4').read_bytes()
    (ok / 'truncated.mp4').write_bytes(data[:len(data) // 3])
    make_videos(str(tmp_path / 'short'), 's', 1, num_frames=4)
    shutil.copy(osp.join(tmp_path, 'short', 's', 'v0.mp4'),
                ok / 'short.mp4')
    report = str(tmp_path / 'report.txt')
    check_videos.main(['--video-root', str(ok), '--min-frames', '8',
                       '--nproc', '2', '--out', report])
    assert '4 of 7 videos failed' in capsys.readouterr().out
    reasons = {row['path']: row['reason']
               for row in read_video_report(report)}
    assert set(reasons) == {'empty.mp4', 'text.mp4', 'truncated.mp4',
                            'short.mp4'}
    assert reasons['empty.mp4'] == 'empty file'
    assert reasons['short.mp4'].startswith('too short: 4 frames < 8')
    assert reasons['text.mp4'].startswith('unreadable')
    # an annotation list: only its files are checked, missing ones reported
    _write(tmp_path / 'list.txt', 'v1.mp4 0\ngone.mp4 1\n')
    check_videos.main(['--video-root', str(ok), '--ann-file',
                       str(tmp_path / 'list.txt'), '--nproc', '1', '--out',
                       report])
    assert read_video_report(report) == [dict(path='gone.mp4',
                                              reason='missing')]


def test_check_videos_guard_clip_span_and_crashes(tmp_path, capsys,
                                                  monkeypatch):
    """A truncated AVI is reported without reaching decord; videos shorter
    than one clip (the dataset's definition) are listed as looped, or fail
    with --no-loop-short-videos; a video that kills its checking process
    is reported and the check goes on (also with --nproc 1)."""
    from tests.helpers.data import truncate, write_labelled_video
    root = tmp_path / 'videos'
    root.mkdir()
    for i in range(2):
        write_labelled_video(str(root / f'ok{i}.mp4'), 16, seed=i)
    write_labelled_video(str(root / 'short.mp4'), 5)
    full = write_labelled_video(str(root / 'full.avi'), 24, fourcc='MJPG')
    truncate(full, str(root / 'cut.avi'), 0.3)
    os.remove(full)
    shutil.copy(root / 'ok0.mp4', root / 'crash.mp4')
    real = check_videos.check_video

    def crashing(task):  # runs in the worker: die as decord would
        if task[1] == 'crash.mp4':
            os.kill(os.getpid(), signal.SIGSEGV)
        return real(task)

    monkeypatch.setattr(check_videos, 'check_video', crashing)
    report = str(tmp_path / 'report.txt')
    for nproc in ('1', '2'):
        check_videos.main(['--video-root', str(root), '--clip-len', '4',
                           '--frame-interval', '2', '--nproc', nproc,
                           '--out', report])
        assert '2 of 5 videos failed, 1 are shorter than one clip (7 ' \
            'frames) and looped' in capsys.readouterr().out
        rows = read_video_report(report)
        reasons = {row['path']: row['reason'] for row in rows
                   if not row.get('looped')}
        assert reasons == {
            'cut.avi': 'unreadable: AVI file is truncated: its RIFF '
                       f"'AVI ' chunk at byte 0 declares "
                       f'{reasons["cut.avi"].split("declares ")[1]}',
            'crash.mp4': 'unreadable: decord crashed the checking process '
                         '(SIGSEGV)'}
        assert dict(path='short.mp4', reason='short: 5 frames < 7, one '
                    'clip; SampleFrames loops it', looped=True) in rows
    check_videos.main(['--video-root', str(root), '--clip-len', '4',
                       '--frame-interval', '2', '--no-loop-short-videos',
                       '--nproc', '2', '--out', report])
    assert '3 of 5 videos failed' in capsys.readouterr().out
    assert read_exclusions(report) == {'cut.avi', 'crash.mp4', 'short.mp4'}
    assert {row['path']: row['reason'] for row in read_video_report(
        report)}['short.mp4'].startswith('short: 5 frames < 7')


def test_names_with_tabs_and_newlines_round_trip_to_training(tmp_path):
    """check_videos reports names with a tab or a newline exactly, the list
    builder leaves exactly those out, and training never meets them: the
    crafted MP4 (decord: SIGSEGV) named with a tab is the one excluded,
    the good video whose name has a tab is kept and read."""
    from mmaction.registry import DATASETS
    from mmengine.registry import init_default_scope

    from a2mm.datasets import REPLACED_KEY
    from tests.helpers.data import break_mp4_index, write_labelled_video
    videos = tmp_path / 'videos'
    videos.mkdir()
    good = write_labelled_video(str(videos / 'c\tc_000000_000010.mp4'), 16)
    write_labelled_video(str(videos / 'eee_000000_000010.mp4'), 16, seed=1)
    break_mp4_index(good, str(videos / 'a\ta_000000_000010.mp4'),
                    'stco_past_end')
    (videos / 'b\nb_000000_000010.mp4').write_bytes(b'')
    report = str(tmp_path / 'bad.txt')
    check_videos.main(['--video-root', str(videos), '--nproc', '1',
                       '--out', report])
    assert read_exclusions(report) == {'a\ta_000000_000010.mp4',
                                       'b\nb_000000_000010.mp4'}
    reasons = {row['path']: row['reason'] for row in read_video_report(report)}
    assert reasons['a\ta_000000_000010.mp4'].startswith(
        'unreadable: MP4/MOV file is corrupt: its index')  # not via a crash
    csv = _write(tmp_path / 'train.csv', KINETICS_HEADER + ''.join(
        f'{label},"{yid}",0,10,train,0\n' for label, yid in (
            ('yoga', 'a\ta'), ('yoga', 'b\nb'), ('zumba', 'c\tc'),
            ('zumba', 'eee'))))
    out = str(tmp_path / 'lists')
    build_kinetics.main(['--train-csv', csv, '--val-csv', csv, '--out', out,
                         '--video-dir-train', str(videos), '--exclude',
                         report])
    ann = osp.join(out, 'kinetics400_train_list_videos.txt')
    assert open(ann).read().splitlines() == [
        'c\tc_000000_000010.mp4 1', 'eee_000000_000010.mp4 1']
    init_default_scope('mmaction')
    data = DATASETS.build(dict(
        type='RobustVideoDataset', ann_file=ann, num_classes=2,
        data_prefix=dict(video=str(videos)), pipeline=[
            dict(type='DecordInit', num_threads=1),
            dict(type='SampleFrames', clip_len=4, frame_interval=2,
                 num_clips=1),
            dict(type='DecordDecode'),
            dict(type='FormatShape', input_format='NCTHW'),
            dict(type='PackActionInputs')]))
    for idx, name in enumerate(['c\tc_000000_000010.mp4',
                                'eee_000000_000010.mp4']):
        sample = data[idx]
        assert sample['inputs'].shape == (1, 3, 4, 32, 40)
        assert sample['data_samples'].metainfo['filename'] == \
            osp.join(str(videos), name)
        assert REPLACED_KEY not in sample['data_samples'].metainfo
    # without the report, the builder refuses the name it cannot list
    with pytest.raises(ValueError, match=r"train.csv, line \d+: video "
                       r"'b\\nb_000000_000010.mp4' has a line break"):
        build_kinetics.main(['--train-csv', csv, '--val-csv', csv, '--out',
                             out, '--video-dir-train', str(videos)])
