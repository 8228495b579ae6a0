"""SkippedVideosMetric keeps the stand-ins of skipped videos out of the
wrapped metric and counts them; skip_stand_ins wraps an evaluator's
metrics without touching the evaluator it is given."""
from typing import Dict, List

from mmengine.evaluator import BaseMetric, Evaluator

import a2mm  # noqa: F401  (registers SkippedVideosMetric)
from a2mm.datasets import SKIPPED_KEY
from a2mm.evaluation import SkippedVideosMetric, skip_stand_ins


class LabelsMetric(BaseMetric):
    """Records the ``label`` of each sample it is given."""

    default_prefix = 'labels'

    def process(self, data_batch, data_samples) -> None:
        self.results.extend(s['label'] for s in data_samples)

    def compute_metrics(self, results: List) -> Dict:
        return dict(seen=sorted(results), meta=self.dataset_meta)


def samples(labels, skipped=()):
    """One dict per label; those at the indices ``skipped`` are stand-ins."""
    return [
        dict(label=y, **({SKIPPED_KEY: dict(path=f'v{i}.mp4',
                                             reason='file does not exist')}
                         if i in skipped else {}))
        for i, y in enumerate(labels)
    ]


def test_stand_ins_are_left_out_and_counted():
    metric = SkippedVideosMetric(LabelsMetric())
    metric.process(None, samples([0, 1, 2], skipped={1}))
    metric.process(None, samples([3, 4], skipped={0, 1}))
    result = metric.evaluate(5)
    assert result['labels/seen'] == [0, 2]
    assert result['labels/skipped_videos'] == 3
    assert result['labels/evaluated_videos'] == 2


def test_a_second_metric_does_not_report():
    metric = SkippedVideosMetric(LabelsMetric(), report=False)
    metric.process(None, samples([0, 1], skipped={0}))
    assert metric.evaluate(2) == {'labels/seen': [1], 'labels/meta': None}


def test_built_from_config_and_not_wrapped_twice():
    inner = SkippedVideosMetric(dict(type='AccMetric'))
    assert type(inner.metric).__name__ == 'AccMetric'
    assert inner.prefix == 'acc'
    outer = SkippedVideosMetric(inner)
    assert type(outer.metric).__name__ == 'AccMetric'


def test_skip_stand_ins_wraps_every_metric_of_a_new_evaluator():
    first, second = LabelsMetric(), LabelsMetric(prefix='other')
    evaluator = Evaluator([first, second])
    evaluator.dataset_meta = dict(classes=('a', 'b'))
    wrapped = skip_stand_ins(evaluator)
    assert wrapped is not evaluator
    assert evaluator.metrics == [first, second]  # left as it was
    assert [type(m) for m in wrapped.metrics] == [SkippedVideosMetric] * 2
    assert [m.metric for m in wrapped.metrics] == [first, second]
    assert [m.report for m in wrapped.metrics] == [True, False]
    assert wrapped.dataset_meta == dict(classes=('a', 'b'))
    assert first.dataset_meta == dict(classes=('a', 'b'))
    wrapped.process(samples([0, 1, 1], skipped={2}))
    metrics = wrapped.evaluate(3)
    assert metrics['labels/seen'] == [0, 1]
    assert metrics['labels/skipped_videos'] == 1
    assert metrics['other/seen'] == [0, 1]
    assert 'other/skipped_videos' not in metrics
    # a metric wrapped already (declared in the config) is kept
    again = skip_stand_ins(wrapped)
    assert again.metrics == wrapped.metrics
