"""Write a copy of a video with text (the predicted labels) drawn on every
frame: ``.mp4``/``.avi`` through OpenCV, ``.gif`` through Pillow."""
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

__all__ = [
    'OUTPUT_SUFFIXES', 'read_frames', 'draw_text', 'write_labelled_video'
]

#: Output formats :func:`write_labelled_video` can write.
OUTPUT_SUFFIXES = ('.mp4', '.avi', '.gif')


def read_frames(video: str,
                max_frames: Optional[int] = None
                ) -> Tuple[List[np.ndarray], float]:
    """Decode a video with OpenCV. Returns its frames (``(H, W, 3)`` uint8
    BGR, at most ``max_frames``) and its frame rate (30 when the file does
    not say)."""
    cap = cv2.VideoCapture(video)
    if not cap.isOpened():
        raise OSError(f'OpenCV cannot open video {video}')
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    frames = []
    while max_frames is None or len(frames) < max_frames:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    if not frames:
        raise OSError(f'no frame could be decoded from {video}')
    return frames, fps


def draw_text(frame: np.ndarray,
              lines: Sequence[str],
              font_scale: float = 0.5,
              colour: Tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    """Return a copy of ``frame`` (BGR) with ``lines`` written top-left on a
    dark box, one per line."""
    out = frame.copy()
    font = cv2.FONT_HERSHEY_SIMPLEX
    thickness = max(1, round(font_scale * 2))
    sizes = [cv2.getTextSize(t, font, font_scale, thickness) for t in lines]
    line_h = max(h + base for (_, h), base in sizes) + 4
    box_w = max(w for (w, _), _ in sizes) + 8
    cv2.rectangle(out, (0, 0), (box_w, line_h * len(lines) + 4), (0, 0, 0),
                  cv2.FILLED)
    for i, text in enumerate(lines):
        cv2.putText(out, text, (4, (i + 1) * line_h - 2), font, font_scale,
                    colour, thickness, cv2.LINE_AA)
    return out


def write_labelled_video(video: str,
                         out_file: str,
                         lines: Sequence[str],
                         fps: Optional[float] = None,
                         target_resolution: Optional[Tuple[int, int]] = None,
                         font_scale: float = 0.5,
                         max_frames: Optional[int] = None) -> int:
    """Write ``video`` to ``out_file`` with ``lines`` drawn on each frame.

    Args:
        video: the input video.
        out_file: ``.mp4``, ``.avi`` or ``.gif``; its folder is created.
        lines: text lines, e.g. ``['jumping 0.91', ...]``.
        fps: output frame rate. Default: the input's.
        target_resolution: ``(width, height)`` of the output; ``-1`` for one
            of them keeps the aspect ratio. Default: the input's size.
        font_scale: OpenCV font scale of the text.
        max_frames: write at most this many frames.

    Returns:
        int: the number of frames written.
    """
    suffix = osp.splitext(out_file)[1].lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise ValueError(f'output {out_file} must end with one of '
                         f'{OUTPUT_SUFFIXES}, got {suffix!r}')
    frames, in_fps = read_frames(video, max_frames)
    fps = fps or in_fps
    if target_resolution is not None:
        frames = [_resize(f, target_resolution) for f in frames]
    frames = [draw_text(f, lines, font_scale) for f in frames]
    folder = osp.dirname(osp.abspath(out_file))
    os.makedirs(folder, exist_ok=True)
    if suffix == '.gif':
        from PIL import Image
        images = [Image.fromarray(f[..., ::-1]) for f in frames]  # BGR->RGB
        images[0].save(
            out_file,
            save_all=True,
            append_images=images[1:],
            duration=max(1, round(1000 / fps)),
            loop=0)
    else:
        fourcc = cv2.VideoWriter_fourcc(*('mp4v' if suffix == '.mp4' else
                                          'MJPG'))
        h, w = frames[0].shape[:2]
        writer = cv2.VideoWriter(out_file, fourcc, fps, (w, h))
        if not writer.isOpened():
            raise OSError(f'OpenCV cannot write {out_file}')
        for frame in frames:
            writer.write(frame)
        writer.release()
    return len(frames)


def _resize(frame: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """Resize to ``(width, height)``; a -1 keeps the aspect ratio."""
    w, h = size
    fh, fw = frame.shape[:2]
    if w == -1 and h == -1:
        raise ValueError('target_resolution cannot be (-1, -1)')
    if w == -1:
        w = round(fw * h / fh)
    elif h == -1:
        h = round(fh * w / fw)
    return cv2.resize(frame, (w, h))
