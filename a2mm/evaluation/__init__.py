"""Evaluation (as ``mmaction.evaluation``): a2mm's metrics
(:mod:`.metrics`)."""
from .metrics import SkippedVideosMetric, skip_stand_ins

__all__ = ['SkippedVideosMetric', 'skip_stand_ins']
