"""Datasets: MMAction2's ``VideoDataset`` with checked annotation lists and
bad-video handling (``RobustVideoDataset``)."""
from .annotation import AnnotationError, parse_video_list, read_class_names
from .robust_video_dataset import (FILENAME_KEY, LOOPED_KEY, REPLACED_KEY,
                                   SKIPPED_KEY, RobustVideoDataset)
from .video_errors import BadVideoError, describe_failure

__all__ = [
    'AnnotationError', 'BadVideoError', 'RobustVideoDataset', 'FILENAME_KEY',
    'LOOPED_KEY', 'REPLACED_KEY', 'SKIPPED_KEY', 'describe_failure',
    'parse_video_list', 'read_class_names'
]
