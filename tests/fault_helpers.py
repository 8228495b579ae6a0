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

__all__ = ['write_video', 'make_fault_videos', 'write_list', 'FAULTS']

# name -> what the dataset must say about it (a substring of the reason)
FAULTS: Dict[str, str] = {
    'missing': 'does not exist',
    'empty': 'empty (0 bytes)',
    'text': 'is not a video file',
    'truncated_mp4': 'truncated or corrupt',
    'corrupt': 'frames cannot be decoded',
    'one_frame': 'has 1 frame(s)',
    'short': 'has 5 frame(s)',
}


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


def make_fault_videos(root: str, good: int = 4,
                      num_frames: int = 24) -> Dict[str, str]:
    """A folder with ``good`` valid videos and one of each fault.

    Returns:
        dict: name -> file name relative to ``root``; good ones are
        ``good0``, ``good1``, ...; the faults are the keys of ``FAULTS``.
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
    with open(full, 'rb') as f:
        data = f.read()
    with open(osp.join(root, 'truncated.mp4'), 'wb') as f:
        f.write(data[:len(data) // 2])
    os.remove(full)
    files['truncated_mp4'] = 'truncated.mp4'
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
