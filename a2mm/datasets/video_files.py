"""Which files are videos, and the videos of a folder or annotation list.

One definition for the whole package and its tools: the demo's folder
input (:func:`a2mm.apis.collect_videos`), ``tools/data/check_videos.py``
and ``tools/data/resize_videos.py`` all list videos with it.
"""
import os
import os.path as osp
from typing import List, Optional

from .annotation import decode_text, parse_video_list

__all__ = ['VIDEO_EXTENSIONS', 'is_video_file', 'list_videos']

#: File suffixes (lower case) that are taken as videos when a folder is
#: listed: the containers decord/FFmpeg read that video datasets ship in.
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mkv', '.mov', '.webm', '.m4v', '.mpg',
                    '.mpeg', '.flv', '.wmv')


def is_video_file(name: str) -> bool:
    """Whether ``name``'s suffix is in :data:`VIDEO_EXTENSIONS` (any
    case)."""
    return name.lower().endswith(VIDEO_EXTENSIONS)


def list_videos(video_root: str, ann_file: Optional[str] = None) -> List[str]:
    """Relative video paths: those of ``ann_file`` (parsed as
    :class:`~a2mm.datasets.RobustVideoDataset` parses it; labels are optional
    here), or every video file under ``video_root`` (recursively), sorted.

    Raises:
        AnnotationError: ``ann_file`` is not a valid list (names file and
            line).
    """
    if ann_file is not None:
        with open(ann_file, 'rb') as f:
            text = decode_text(f.read(), ann_file)
        return [s['filename'] for s in parse_video_list(
            text, ann_file, require_labels=False)]
    found = []
    for folder, _, files in os.walk(video_root):
        found += [osp.relpath(osp.join(folder, name), video_root)
                  for name in files if is_video_file(name)]
    return sorted(found)
