"""a2mm's metrics, one per file; importing this package registers them in
MMAction2's ``METRICS``."""
from .skipped_videos_metric import SkippedVideosMetric, skip_stand_ins

__all__ = ['SkippedVideosMetric', 'skip_stand_ins']
