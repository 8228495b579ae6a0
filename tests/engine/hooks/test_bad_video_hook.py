"""BadVideoHook's set-up of validation and test loops: the evaluator of a
loop whose dataset skips bad videos is replaced, once, by one whose
metrics leave the stand-ins out (the runs themselves:
test_fault_hooks.py)."""
from types import SimpleNamespace

import pytest
from mmaction.evaluation import AccMetric
from mmengine.evaluator import Evaluator

from a2mm.engine.hooks import BadVideoHook
from a2mm.engine.hooks.bad_video_hook import dataset_skips_bad_videos
from a2mm.evaluation import SkippedVideosMetric


def runner_with(metrics, skip: bool = True):
    loop = SimpleNamespace(
        dataloader=SimpleNamespace(
            dataset=SimpleNamespace(skip_bad_videos=skip)),
        evaluator=Evaluator(metrics))
    logged = []
    runner = SimpleNamespace(val_loop=loop, test_loop=loop,
                             logger=SimpleNamespace(info=logged.append))
    return runner, loop, logged


@pytest.mark.parametrize('stage', ['val', 'test'])
def test_metrics_wrapped_once_and_logged(stage):
    accuracy = AccMetric()
    runner, loop, logged = runner_with([accuracy])
    hook = BadVideoHook()
    getattr(hook, f'before_{stage}')(runner)
    wrapped = loop.evaluator
    assert [type(m) for m in wrapped.metrics] == [SkippedVideosMetric]
    assert wrapped.metrics[0].metric is accuracy
    assert len(logged) == 1
    assert 'its metrics (AccMetric) are wrapped in SkippedVideosMetric' in \
        logged[0]
    getattr(hook, f'before_{stage}')(runner)  # the next validation
    assert loop.evaluator is wrapped and len(logged) == 1


def test_loop_left_alone_without_skipping_or_when_declared():
    runner, loop, logged = runner_with([AccMetric()], skip=False)
    evaluator = loop.evaluator
    BadVideoHook().before_test(runner)
    assert loop.evaluator is evaluator
    assert type(evaluator.metrics[0]) is AccMetric
    declared = SkippedVideosMetric(dict(type='AccMetric'))
    runner, loop, logged = runner_with([declared])
    evaluator = loop.evaluator
    BadVideoHook().before_test(runner)
    assert loop.evaluator is evaluator and evaluator.metrics == [declared]
    assert logged == []


def test_dataset_wrappers_are_looked_into():
    skipping = SimpleNamespace(skip_bad_videos=True)
    plain = SimpleNamespace(skip_bad_videos=False)
    assert dataset_skips_bad_videos(SimpleNamespace(datasets=[plain,
                                                              skipping]))
    assert dataset_skips_bad_videos(SimpleNamespace(dataset=skipping))
    assert not dataset_skips_bad_videos(SimpleNamespace(dataset=plain))
