"""a2mm.datasets.digit_clips.write_split: one split of a generated dataset
(videos under ``videos/<split>/``, the list beside them)."""
import os
import os.path as osp

import cv2
import numpy as np

from a2mm.datasets.digit_clips import write_split


def _frame_count(path: str) -> int:
    cap = cv2.VideoCapture(path)
    count = 0
    while cap.read()[0]:
        count += 1
    cap.release()
    return count


def test_write_split_writes_each_clip_and_its_list(tmp_path):
    rng = np.random.default_rng(0)
    clips = [(rng.integers(0, 256, (4 + i, 16, 24, 3), dtype=np.uint8), 2 - i)
             for i in range(3)]
    ann_file = write_split(str(tmp_path), 'val', iter(clips), fps=8)

    assert ann_file == str(tmp_path / 'val_list.txt')
    with open(ann_file) as f:
        assert f.read() == '00000.mp4 2\n00001.mp4 1\n00002.mp4 0\n'
    video_dir = tmp_path / 'videos' / 'val'
    assert sorted(os.listdir(video_dir)) == [
        '00000.mp4', '00001.mp4', '00002.mp4']
    for i, (frames, _) in enumerate(clips):  # each clip in its own file
        assert _frame_count(osp.join(video_dir, f'{i:05d}.mp4')) == len(frames)
