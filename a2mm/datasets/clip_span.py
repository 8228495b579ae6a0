"""How many frames one clip spans, and which videos are shorter.

One definition for the dataset (``RobustVideoDataset``) and the checker
(``tools/data/check_videos.py``): a clip of ``clip_len`` frames taken every
``frame_interval`` frames covers ``(clip_len - 1) * frame_interval + 1``
frames of the video (57 for the 8x8 Kinetics pipeline). A video with fewer
frames is *short*: MMAction2's ``SampleFrames`` (``out_of_bound_opt='loop'``,
its default) then takes the frame indices modulo the video length, i.e. it
loops the video. Such a video is data, and is used by default.
"""
from typing import Iterable, Optional, Tuple

from mmaction.datasets.transforms import SampleFrames

__all__ = ['clip_span', 'pipeline_clip_span']


def clip_span(clip_len: int, frame_interval: int = 1) -> int:
    """Frames one clip covers: ``(clip_len - 1) * frame_interval + 1``.

    Raises:
        ValueError: ``clip_len`` or ``frame_interval`` is below 1.
    """
    if clip_len < 1 or frame_interval < 1:
        raise ValueError(f'clip_len and frame_interval must be >= 1, got '
                         f'clip_len={clip_len}, frame_interval='
                         f'{frame_interval}')
    return (clip_len - 1) * frame_interval + 1


def pipeline_clip_span(
        transforms: Iterable[object]) -> Optional[Tuple[int, str]]:
    """``(span, description)`` of the first ``SampleFrames`` among
    ``transforms`` (built transform objects), or None when there is none.

    ``description`` reads e.g. ``'one clip spans 57 frames: clip_len=8,
    frame_interval=8'``.
    """
    for t in transforms:
        if isinstance(t, SampleFrames):
            span = clip_span(t.clip_len, t.frame_interval)
            return span, (f'one clip spans {span} frames: clip_len='
                          f'{t.clip_len}, frame_interval={t.frame_interval}')
    return None
