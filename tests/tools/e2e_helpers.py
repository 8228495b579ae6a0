"""Tiny generated video datasets and configs for the end-to-end tool tests
(``from tests.tools.e2e_helpers import ...``; setup.cfg puts the repository
root on ``sys.path``)."""
import os
import os.path as osp
import subprocess
import sys
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NUM_CLASSES = 3


def make_videos(root: str, split: str, num: int, num_frames: int = 16,
                size: Sequence[int] = (40, 32)) -> str:
    """Write ``num`` mp4 clips of ``size`` (W, H) under ``root/split`` whose
    class (``i % NUM_CLASSES``) is the corner a bright square moves in.

    Returns:
        str: the annotation list ``root/<split>_list.txt``.
    """
    width, height = size
    folder = osp.join(root, split)
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(len(split) + num)
    lines = []
    for i in range(num):
        label = i % NUM_CLASSES
        writer = cv2.VideoWriter(
            osp.join(folder, f'v{i}.mp4'), cv2.VideoWriter_fourcc(*'mp4v'),
            25, (width, height))
        for t in range(num_frames):
            frame = rng.integers(0, 60, (height, width, 3), dtype=np.uint8)
            x = [2, width - 14, width // 2 - 6][label] + (t % 4)
            frame[4:16, x:x + 12] = 255
            writer.write(frame)
        writer.release()
        lines.append(f'v{i}.mp4 {label}\n')
    ann_file = osp.join(root, f'{split}_list.txt')
    with open(ann_file, 'w') as f:
        f.writelines(lines)
    return ann_file


def dataloader_override(name: str, ann_file: str, video_dir: str,
                        batch_size: int = 2, dataset_extra: str = '') -> str:
    """Config text pointing ``name`` (e.g. 'train_dataloader') at the data,
    in the main process (no workers: faster for a handful of clips);
    ``dataset_extra`` adds keyword text to its ``dataset=dict(...)``."""
    return (f'{name} = dict(batch_size={batch_size}, num_workers=0, '
            f'persistent_workers=False, dataset=dict(ann_file={ann_file!r}, '
            f'data_prefix=dict(video={video_dir!r}){dataset_extra}))\n')


def write_tiny_config(tmp_path, max_epochs: int = 1,
                      extra: str = '') -> str:
    """A user config over configs/embedded/a2_tiny_embedded.py on a tiny
    generated dataset (6 train, 3 test clips, 3 classes).

    Returns:
        str: path of the config file.
    """
    data = str(tmp_path / 'data')
    if not osp.isdir(data):
        make_videos(data, 'train', 6)
        make_videos(data, 'test', 3)
    base = osp.join(REPO, 'configs', 'embedded', 'a2_tiny_embedded.py')
    text = (
        f'_base_ = [{base!r}]\n'
        f'model = dict(cls_head=dict(num_classes={NUM_CLASSES}))\n'
        f'train_cfg = dict(max_epochs={max_epochs}, val_interval=1)\n'
        'default_hooks = dict(logger=dict(interval=1), '
        'checkpoint=dict(interval=1, max_keep_ckpts=-1))\n' +
        dataloader_override('train_dataloader', f'{data}/train_list.txt',
                            f'{data}/train') +
        dataloader_override('val_dataloader', f'{data}/test_list.txt',
                            f'{data}/test') +
        dataloader_override('test_dataloader', f'{data}/test_list.txt',
                            f'{data}/test') + extra)
    path = str(tmp_path / f'tiny_{max_epochs}ep.py')
    with open(path, 'w') as f:
        f.write(text)
    return path


def tool_env(**extra: str) -> Dict[str, str]:
    """The environment for a tool run as a subprocess: the repository first
    on PYTHONPATH, ahead of what the caller's PYTHONPATH already holds."""
    path = os.pathsep.join(
        p for p in (REPO, os.environ.get('PYTHONPATH')) if p)
    return dict(os.environ, PYTHONPATH=path, **extra)


def run_tool(args: List[str], cwd: Optional[str] = None,
             timeout: int = 300) -> str:
    """Run ``python <args>`` (or another executable) from the repository
    with a2mm importable; return stdout+stderr, failing with the output."""
    env = tool_env(OMP_NUM_THREADS='1')
    cmd = args if args[0] != 'python' else [sys.executable] + args[1:]
    proc = subprocess.run(cmd, cwd=cwd or REPO, env=env, timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    if proc.returncode != 0:
        raise AssertionError(f'{" ".join(cmd)} exited with '
                             f'{proc.returncode}:\n{proc.stdout[-6000:]}')
    return proc.stdout
