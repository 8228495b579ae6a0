"""Datasets: MMAction2's ``VideoDataset`` with checked annotation lists and
bad-video handling (``RobustVideoDataset``), the metainfo keys its samples
carry for the hooks and metrics that read them (:mod:`.metainfo_keys`), and
the file helpers the data tools share (video suffixes and listing, label
maps, exclusion reports)."""
from .annotation import (AnnotationError, load_label_map, parse_video_list,
                         read_class_names)
from .exclusions import (read_exclusions, read_video_report,
                         write_video_report)
from .metainfo_keys import FILENAME_KEY, LOOPED_KEY, REPLACED_KEY, SKIPPED_KEY
from .robust_video_dataset import RobustVideoDataset
from .video_errors import BadVideoError, describe_failure
from .video_files import VIDEO_EXTENSIONS, is_video_file, list_videos

__all__ = [
    'AnnotationError', 'BadVideoError', 'RobustVideoDataset', 'FILENAME_KEY',
    'LOOPED_KEY', 'REPLACED_KEY', 'SKIPPED_KEY', 'VIDEO_EXTENSIONS',
    'describe_failure', 'is_video_file', 'list_videos', 'load_label_map',
    'parse_video_list', 'read_class_names', 'read_exclusions',
    'read_video_report', 'write_video_report'
]
