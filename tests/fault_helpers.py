"""Make tiny videos and break them for real, for the fault tests.

Used by tests/datasets, tests/engine and tests/tools/test_faults.py
(``from tests.fault_helpers import ...``; setup.cfg puts the repository
root on ``sys.path``).
"""
import os
import os.path as osp
from typing import Dict, List, Tuple

import cv2
import numpy as np

__all__ = [
    'write_video', 'make_fault_videos', 'write_list', 'truncate', 'FAULTS',
    'SHORT'
]

# name -> what the dataset must say about it (a substring of the reason)
FAULTS: Dict[str, str] = {
    'missing': 'does not exist',
    'empty': 'empty (0 bytes)',
    'text': 'is not a video file',
    'truncated_mp4': 'MP4/MOV file is truncated',
    'truncated_avi': 'AVI file is truncated',  # decord segfaults on it
    'corrupt': 'frames cannot be decoded',
    'tiny': 'cannot copy its decoded frames: 96 bytes decoded per frame '
            'where the array holds 3',  # 1x1 pixels
    'narrow': 'cannot copy its decoded frames: 1536 bytes decoded per '
              'frame where the array holds 192',  # 4x16 pixels
}
# short videos (fewer frames than a 4x2 clip spans, 7): data, looped
SHORT: Dict[str, int] = {'one_frame': 1, 'short': 5}


def write_video(path: str,
                num_frames: int,
                size: Tuple[int, int] = (40, 32),
                fourcc: str = 'mp4v',
                seed: int = 0,
                label: int = 0) -> str:
    """Write a real video of random-noise frames with a bright square
    whose position encodes ``label`` (learnable by a tiny model).

    Args:
        path (str): output file (.mp4 or .avi).
        num_frames (int): frames to write.
        size (tuple): (width, height).
        fourcc (str): codec: 'mp4v' for .mp4, 'MJPG' for .avi.
        seed (int): noise seed.
        label (int): 0..3, the quadrant of the square.

    Returns:
        str: ``path``.
    """
    rng = np.random.default_rng(seed)
    width, height = size
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc), 25,
                             (width, height))
    assert writer.isOpened(), f'cv2 cannot write {path}'
    for t in range(num_frames):
        frame = rng.integers(0, 80, (height, width, 3), dtype=np.uint8)
        y = (label // 2) * height // 2 + (t % 4)
        x = (label % 2) * width // 2 + (t % 4)
        frame[y:y + height // 3, x:x + width // 3] = 255
        writer.write(frame)
    writer.release()
    return path


def truncate(src: str, dst: str, fraction: float) -> str:
    """Write the first ``fraction`` of the bytes of ``src`` to ``dst``."""
    with open(src, 'rb') as f:
        data = f.read()
    with open(dst, 'wb') as f:
        f.write(data[:int(len(data) * fraction)])
    return dst


def make_fault_videos(root: str, good: int = 4,
                      num_frames: int = 24) -> Dict[str, str]:
    """A folder with ``good`` valid videos and one of each fault.

    Returns:
        dict: name -> file name relative to ``root``; good ones are
        ``good0``, ``good1``, ...; the faults are the keys of ``FAULTS``,
        the short videos those of ``SHORT``.
    """
    os.makedirs(root, exist_ok=True)
    files = {}
    for i in range(good):
        files[f'good{i}'] = osp.basename(
            write_video(osp.join(root, f'good {i}.mp4'), num_frames,
                        seed=i, label=i % 4))
    files['missing'] = 'missing.mp4'
    open(osp.join(root, 'empty.mp4'), 'wb').close()
    files['empty'] = 'empty.mp4'
    with open(osp.join(root, 'text.mp4'), 'w') as f:
        f.write('this is a text file renamed to .mp4\n' * 20)
    files['text'] = 'text.mp4'
    # MP4 from cv2 keeps its index (moov) at the end: cut, it cannot open.
    full = write_video(osp.join(root, 'full.mp4'), num_frames, seed=9)
    truncate(full, osp.join(root, 'truncated.mp4'), 0.5)
    os.remove(full)
    files['truncated_mp4'] = 'truncated.mp4'
    # AVI (MJPG) cut at 30%: decord reading it from memory, as MMAction2's
    # DecordInit does, dies with SIGSEGV (tests/datasets/test_bad_videos.py)
    full = write_video(osp.join(root, 'full.avi'), num_frames, seed=7,
                       fourcc='MJPG')
    truncate(full, osp.join(root, 'truncated.avi'), 0.3)
    os.remove(full)
    files['truncated_avi'] = 'truncated.avi'
    files['tiny'] = osp.basename(write_video(
        osp.join(root, 'tiny.avi'), num_frames, size=(1, 1), fourcc='MJPG'))
    files['narrow'] = osp.basename(write_video(
        osp.join(root, 'narrow.avi'), num_frames, size=(4, 16),
        fourcc='MJPG'))
    # Payload overwritten with zeros (header intact): it opens, but the
    # frames after the first cannot be decoded.
    full = write_video(osp.join(root, 'full.mp4'), num_frames, seed=8)
    with open(full, 'rb') as f:
        data = bytearray(f.read())
    data[600:len(data) - 1500] = bytes(len(data) - 2100)
    with open(osp.join(root, 'corrupt.mp4'), 'wb') as f:
        f.write(bytes(data))
    os.remove(full)
    files['corrupt'] = 'corrupt.mp4'
    files['one_frame'] = osp.basename(
        write_video(osp.join(root, 'one_frame.mp4'), 1))
    files['short'] = osp.basename(write_video(osp.join(root, 'short.mp4'), 5))
    return files


def write_list(path: str, entries: List[Tuple[str, int]],
               newline: str = '\n') -> str:
    """Write an annotation list of ``(relative path, label)`` lines."""
    with open(path, 'w', newline='') as f:
        f.write(''.join(f'{name} {label}{newline}'
                        for name, label in entries))
    return path


def tiny_recognizer_config(work_dir: str, root: str, train_list: str,
                           test_list: str, num_classes: int = 4) -> dict:
    """A complete runner config: a 2-stage ResNet3d-18 (8/16 channels) on
    4-frame 24x24 clips of the videos in ``root``, batch 2, no workers,
    iteration-based (checkpoints every 2 iterations), the fault-tolerance
    hooks of ``configs/_base_/default_runtime.py``."""
    def pipeline(test_mode: bool) -> list:
        return [
            dict(type='DecordInit', num_threads=1),
            dict(type='SampleFrames', clip_len=4, frame_interval=2,
                 num_clips=1, test_mode=test_mode),
            dict(type='DecordDecode'),
            dict(type='RandomCrop', size=24) if not test_mode else
            dict(type='CenterCrop', crop_size=24),
            dict(type='FormatShape', input_format='NCTHW'),
            dict(type='PackActionInputs')
        ]

    def loader(ann_file: str, test_mode: bool) -> dict:
        return dict(
            batch_size=2, num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=not test_mode),
            dataset=dict(type='RobustVideoDataset', ann_file=ann_file,
                         data_prefix=dict(video=root), test_mode=test_mode,
                         pipeline=pipeline(test_mode)))

    return dict(
        default_scope='mmaction',
        work_dir=work_dir,
        model=dict(
            type='Recognizer3D',
            backbone=dict(
                type='ResNet3d', depth=18, base_channels=8, num_stages=2,
                out_indices=(1, ), spatial_strides=(1, 2),
                temporal_strides=(1, 1), dilations=(1, 1), conv1_stride_t=1,
                pool1_stride_t=1, inflate=(1, 1), pretrained=None,
                pretrained2d=False),
            cls_head=dict(type='I3DHead', num_classes=num_classes,
                          in_channels=16, dropout_ratio=0.5,
                          average_clips='prob'),
            data_preprocessor=dict(type='ActionDataPreprocessor',
                                   mean=[100.0] * 3, std=[50.0] * 3,
                                   format_shape='NCTHW')),
        train_dataloader=loader(train_list, False),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=6,
                       val_interval=100),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05,
                                          momentum=0.9)),
        test_dataloader=loader(test_list, True),
        test_cfg=dict(type='TestLoop'),
        test_evaluator=dict(type='AccMetric'),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='AtomicCheckpointHook', interval=2,
                            by_epoch=False, max_keep_ckpts=1)),
        custom_hooks=[
            dict(type='BadVideoHook'), dict(type='ResumeSeedHook'),
            dict(type='CheckpointShapeCheckHook')
        ],
        log_processor=dict(by_epoch=False),
        randomness=dict(seed=0),
        env_cfg=dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo')),
        log_level='INFO')
