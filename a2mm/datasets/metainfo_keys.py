"""The keys :class:`~a2mm.datasets.RobustVideoDataset` writes into each
returned sample's ``data_samples`` metainfo: the one handshake between the
dataset (which runs in DataLoader worker processes) and what reads its
samples in the main process.

Readers: :class:`~a2mm.engine.hooks.BadVideoHook` (logs and counts
``REPLACED_KEY`` and ``LOOPED_KEY``),
:class:`~a2mm.evaluation.SkippedVideosMetric` (keeps samples with
``SKIPPED_KEY`` out of the wrapped metric), and ``tools/test.py --dump``
(each row names its video by ``FILENAME_KEY``). Import them from
:mod:`a2mm.datasets`.
"""

__all__ = ['REPLACED_KEY', 'SKIPPED_KEY', 'LOOPED_KEY', 'FILENAME_KEY']

#: Training: ``[{'path': str, 'reason': str}, ...]``, the bad videos this
#: sample replaced (one entry per failed attempt, oldest first).
REPLACED_KEY = 'replaced_videos'
#: Testing with ``skip_bad_videos=True``: ``{'path': str, 'reason': str}``
#: on a stand-in sample answering a video that could not be read.
SKIPPED_KEY = 'skipped_video'
#: ``{'path': str, 'frames': int, 'span': int}`` on a video shorter than
#: one clip (``span`` frames), whose frames ``SampleFrames`` loops.
LOOPED_KEY = 'looped_video'
#: ``str``: the sample's video path (the skipped one's, on a stand-in).
FILENAME_KEY = 'filename'
