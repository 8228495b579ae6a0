"""Moved to :mod:`a2mm.evaluation.metrics.skipped_videos_metric` (metrics, as
in ``mmaction.evaluation.metrics``).

This alias keeps ``a2mm.engine.skipped_videos_metric`` importing; new code
imports the new path.
"""
from a2mm.evaluation.metrics.skipped_videos_metric import *  # noqa: F401,F403
