"""Datasets: MMAction2's ``VideoDataset`` with checked annotation lists and
bad-video handling (``RobustVideoDataset``), and the metainfo keys its
samples carry for the hooks and metrics that read them
(:mod:`.metainfo_keys`)."""
from .annotation import AnnotationError, parse_video_list, read_class_names
from .metainfo_keys import FILENAME_KEY, LOOPED_KEY, REPLACED_KEY, SKIPPED_KEY
from .robust_video_dataset import RobustVideoDataset
from .video_errors import BadVideoError, describe_failure

__all__ = [
    'AnnotationError', 'BadVideoError', 'RobustVideoDataset', 'FILENAME_KEY',
    'LOOPED_KEY', 'REPLACED_KEY', 'SKIPPED_KEY', 'describe_failure',
    'parse_video_list', 'read_class_names'
]
