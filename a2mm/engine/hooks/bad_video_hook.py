"""``BadVideoHook``: report the bad videos ``RobustVideoDataset`` met.

Training: the dataset replaces a video it cannot read by another sample and
records the path and the reason in the returned sample's metainfo
(``replaced_videos``), because it runs in DataLoader worker processes whose
logs and counters the main process does not see. This hook reads them from
each batch, logs every bad path once (with the reason), and at the end of
each epoch (each pass over the data for iteration-based loops) logs how many
samples were replaced, summed over all ranks.

Short videos (fewer frames than one clip spans), which the dataset uses
and ``SampleFrames`` loops as in MMAction2, come tagged ``looped_video``:
the hook counts them in the same epoch summary, and at the end of each
validation and test logs how many of the videos were looped.

Validation and testing: when the loop's dataset has
``skip_bad_videos=True``, the hook gives the loop, once, in
``before_val``/``before_test`` (the loop and its evaluator are built, no
batch has run), the evaluator :func:`~a2mm.evaluation.skip_stand_ins`
makes of its own: every metric wrapped in
:class:`~a2mm.evaluation.SkippedVideosMetric`, so the stand-in samples of
skipped videos are kept out of the metrics and reported. It logs that it
did. A config may declare the wrapping itself instead
(``test_evaluator=dict(type='SkippedVideosMetric', metric=...)``); the hook
then leaves it as it is.

The metainfo keys read here are :mod:`a2mm.datasets.metainfo_keys`.
"""
from typing import Any, Dict, Optional, Sequence, Set

import torch
from mmaction.registry import HOOKS
from mmengine.dist import all_gather_object, all_reduce
from mmengine.hooks import Hook
from mmengine.runner import IterBasedTrainLoop

from a2mm.datasets import LOOPED_KEY, REPLACED_KEY, SKIPPED_KEY
from a2mm.evaluation import SkippedVideosMetric, skip_stand_ins

__all__ = ['BadVideoHook', 'dataset_skips_bad_videos']


def dataset_skips_bad_videos(dataset: Any) -> bool:
    """Whether ``dataset`` (or one inside a dataset wrapper) has
    ``skip_bad_videos=True``."""
    if getattr(dataset, 'skip_bad_videos', False):
        return True
    inner = getattr(dataset, 'datasets', None) or [
        getattr(dataset, 'dataset', None)
    ]
    return any(d is not None and dataset_skips_bad_videos(d) for d in inner)


@HOOKS.register_module()
class BadVideoHook(Hook):
    """Log replaced training videos and make skipped test videos visible.

    Takes no arguments; add it with ``custom_hooks=[dict(type=
    'BadVideoHook')]`` (``configs/_base_/default_runtime.py`` does).
    """

    priority = 'BELOW_NORMAL'

    def __init__(self) -> None:
        self._logged: Set[str] = set()
        self._count = 0  # replaced samples since the last summary
        self._reasons: Dict[str, str] = {}
        self._looped = 0  # looped training samples since the last summary
        self._looped_paths: Dict[str, int] = {}  # path -> frames, this rank
        self._looped_seen: Set[str] = set()  # all ranks, whole run
        self._eval_looped: Dict[str, int] = {}  # this val/test pass

    # ----------------------------------------------------------- training
    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        for sample in (data_batch or {}).get('data_samples', []):
            looped = getattr(sample, 'metainfo', {}).get(LOOPED_KEY)
            if looped:
                self._looped += 1
                self._looped_paths[looped['path']] = looped['frames']
            for bad in getattr(sample, 'metainfo', {}).get(REPLACED_KEY, []):
                self._count += 1
                self._reasons.setdefault(bad['path'], bad['reason'])
                if bad['path'] not in self._logged:
                    self._logged.add(bad['path'])
                    runner.logger.warning(
                        f'bad video, replaced by another sample: '
                        f'{bad["path"]}: {bad["reason"]}')
        loop = runner.train_loop
        if isinstance(loop, IterBasedTrainLoop):
            per_pass = len(loop.dataloader)
            if (runner.iter + 1) % per_pass == 0:
                self._summary(runner,
                              f'data pass {(runner.iter + 1) // per_pass}')

    def after_train_epoch(self, runner) -> None:
        if not isinstance(runner.train_loop, IterBasedTrainLoop):
            self._summary(runner, f'epoch {runner.epoch + 1}')

    def _summary(self, runner, what: str) -> None:
        """Log the number of replaced samples on all ranks since the last
        summary, and the files other ranks met that rank 0 did not log."""
        count = torch.tensor(self._count, dtype=torch.int64)
        all_reduce(count)  # no-op when not distributed
        seen = {}
        for reasons in all_gather_object(self._reasons):
            seen.update(reasons)
        for path in sorted(set(seen) - self._logged):
            self._logged.add(path)
            runner.logger.warning(f'bad video, replaced by another sample: '
                                  f'{path}: {seen[path]}')
        runner.logger.info(
            f'{what}: {int(count)} training sample(s) replaced because the '
            f'video could not be read; {len(self._logged)} distinct bad '
            'file(s) so far')
        looped = torch.tensor(self._looped, dtype=torch.int64)
        all_reduce(looped)
        for paths in all_gather_object(self._looped_paths):
            self._looped_seen.update(paths)
        runner.logger.info(
            f'{what}: {int(looped)} training sample(s) shorter than one clip '
            'were used with their frames looped (as MMAction2\'s '
            f'SampleFrames does); {len(self._looped_seen)} distinct short '
            'video(s) so far')
        self._count = 0
        self._reasons = {}
        self._looped = 0
        self._looped_paths = {}

    # ---------------------------------------------------- validation/test
    @staticmethod
    def _skip_stand_ins(runner, loop: Any, what: str) -> None:
        """Give ``loop`` (a built val/test loop) the evaluator
        :func:`skip_stand_ins` makes of its own, if its dataset skips bad
        videos and not all its metrics are wrapped yet (a later pass of
        the same loop, or a config that declared the wrapping)."""
        if not dataset_skips_bad_videos(loop.dataloader.dataset):
            return
        metrics = loop.evaluator.metrics
        if all(isinstance(m, SkippedVideosMetric) for m in metrics):
            return
        loop.evaluator = skip_stand_ins(loop.evaluator)
        names = ', '.join(type(m).__name__ for m in metrics)
        runner.logger.info(
            f'BadVideoHook: the {what} dataset has skip_bad_videos=True; '
            f'its metrics ({names}) are wrapped in SkippedVideosMetric, '
            'which leaves skipped videos out and counts them')

    def before_val(self, runner) -> None:
        self._skip_stand_ins(runner, runner.val_loop, 'validation')

    def before_test(self, runner) -> None:
        self._skip_stand_ins(runner, runner.test_loop, 'test')

    def _count_eval(self, data_batch: Optional[dict]) -> None:
        for sample in (data_batch or {}).get('data_samples', []):
            meta = getattr(sample, 'metainfo', {})
            looped = meta.get(LOOPED_KEY)
            if looped and SKIPPED_KEY not in meta:  # not a stand-in
                self._eval_looped[looped['path']] = looped['frames']

    def _report_eval(self, runner, what: str, loop: Any) -> None:
        """Log how many distinct videos of this pass were looped (over all
        ranks: the distributed sampler's padding repeats some)."""
        looped: Dict[str, int] = {}
        for paths in all_gather_object(self._eval_looped):
            looped.update(paths)
        self._eval_looped = {}
        dataset = getattr(getattr(loop, 'dataloader', None), 'dataset', None)
        total = f' of {len(dataset)}' if dataset is not None else ''
        runner.logger.info(
            f'{what}: {len(looped)}{total} video(s) are shorter than one '
            "clip and were used with their frames looped (as MMAction2's "
            f'SampleFrames does){_examples(looped)}')

    def after_val_iter(self, runner, batch_idx: int,
                       data_batch: Optional[dict] = None,
                       outputs: Optional[Sequence] = None) -> None:
        self._count_eval(data_batch)

    def after_test_iter(self, runner, batch_idx: int,
                        data_batch: Optional[dict] = None,
                        outputs: Optional[Sequence] = None) -> None:
        self._count_eval(data_batch)

    def after_val_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        self._report_eval(runner, 'validation', runner.val_loop)

    def after_test_epoch(self, runner,
                         metrics: Optional[dict] = None) -> None:
        self._report_eval(runner, 'test', runner.test_loop)


def _examples(looped: Dict[str, int], shown: int = 5) -> str:
    """``': a.mp4 (5 frames), ...'`` for the first ``shown`` paths."""
    if not looped:
        return ''
    items = [f'{path} ({frames} frames)'
             for path, frames in sorted(looped.items())[:shown]]
    more = len(looped) - len(items)
    return ': ' + ', '.join(items) + (f', and {more} more' if more else '')
