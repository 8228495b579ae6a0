"""``SkippedVideosMetric``: evaluate on the videos that could be read, and
say which could not.

With ``RobustVideoDataset(skip_bad_videos=True)`` in test mode, a video
that cannot be loaded is answered by a *stand-in* sample (another video of
the list) whose data sample carries ``skipped_video`` in its metainfo: the
batch keeps its size and every rank still yields one result per index, as
MMEngine's ``collect_results`` expects. This wrapper passes the real
samples to the wrapped metric (e.g. ``AccMetric``), keeps the stand-ins out
of it, and adds to the metrics ``skipped_videos`` (how many) and
``evaluated_videos`` (how many were scored), and logs the skipped paths, so
a metric is never silently computed on fewer videos.

Two ways to use it, with the same result:

* in a config: ``test_evaluator = dict(type='SkippedVideosMetric',
  metric=dict(type='AccMetric'))``;
* :func:`skip_stand_ins`, which gives an ``Evaluator`` whose every metric
  is wrapped (the first one reports). ``BadVideoHook`` calls it once per
  loop, in ``before_val``/``before_test``, on the loop of a dataset with
  ``skip_bad_videos=True``, and logs that it did.
"""
import logging
from typing import Any, Dict, List, Optional, Sequence, Union

from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric, Evaluator
from mmengine.logging import print_log

from a2mm.datasets import SKIPPED_KEY

__all__ = ['SkippedVideosMetric', 'skip_stand_ins']


@METRICS.register_module()
class SkippedVideosMetric(BaseMetric):
    """Wrap a metric so that stand-ins for skipped videos are not counted.

    Args:
        metric (dict or BaseMetric): the metric to wrap (config or object).
        report (bool): add ``skipped_videos``/``evaluated_videos`` to the
            results and log the skipped files. When several metrics are
            wrapped, one reports. Defaults to True.

    The wrapper keeps the wrapped metric's ``prefix`` and
    ``collect_device``, so its keys are unchanged (``acc/top1``), plus
    ``acc/skipped_videos`` and ``acc/evaluated_videos``.
    """

    def __init__(self, metric: Union[dict, BaseMetric],
                 report: bool = True) -> None:
        if isinstance(metric, dict):
            metric = METRICS.build(metric)
        if isinstance(metric, SkippedVideosMetric):
            metric = metric.metric
        super().__init__(
            collect_device=metric.collect_device, prefix=metric.prefix)
        self.metric = metric
        self.report = report

    @property
    def dataset_meta(self) -> Optional[dict]:
        return self.metric.dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: dict) -> None:
        self.metric.dataset_meta = dataset_meta

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """One entry per sample in ``self.results``: ``('skipped', info)``
        for a stand-in, ``('ok', result)`` for the wrapped metric's result
        of a real one."""
        real = [s for s in data_samples if SKIPPED_KEY not in s]
        if real:
            start = len(self.metric.results)
            self.metric.process(data_batch, real)
            self.results.extend(
                ('ok', result) for result in self.metric.results[start:])
            del self.metric.results[start:]
        self.results.extend(('skipped', s[SKIPPED_KEY]) for s in data_samples
                            if SKIPPED_KEY in s)

    def compute_metrics(self, results: List) -> Dict[str, Any]:
        ok = [result for kind, result in results if kind == 'ok']
        skipped = [info for kind, info in results if kind == 'skipped']
        metrics = self.metric.compute_metrics(ok) if ok else {}
        if not self.report:
            return metrics
        metrics['skipped_videos'] = len(skipped)
        metrics['evaluated_videos'] = len(ok)
        if skipped:
            listed = '\n'.join(f'  {info["path"]}: {info["reason"]}'
                               for info in skipped)
            print_log(
                f'{len(skipped)} of {len(skipped) + len(ok)} videos could '
                'not be read and are NOT counted in these metrics '
                f'(skip_bad_videos=True):\n{listed}',
                logger='current',
                level=logging.WARNING)
        return metrics


def skip_stand_ins(evaluator: Evaluator) -> Evaluator:
    """An ``Evaluator`` over the metrics of ``evaluator``, each wrapped in a
    :class:`SkippedVideosMetric` (metrics wrapped already are kept as they
    are), the first of them reporting ``skipped_videos`` and
    ``evaluated_videos``; the dataset meta carries over. ``evaluator`` is
    left unchanged.
    """
    wrapped = Evaluator([
        metric if isinstance(metric, SkippedVideosMetric) else
        SkippedVideosMetric(metric, report=(i == 0))
        for i, metric in enumerate(evaluator.metrics)
    ])
    if evaluator.dataset_meta is not None:
        wrapped.dataset_meta = evaluator.dataset_meta
    return wrapped
