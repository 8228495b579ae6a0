"""``RobustVideoDataset``: MMAction2's ``VideoDataset`` that survives bad
videos and bad annotation lists, and says what went wrong.

Why a subclass, and why these three methods only:

- ``load_data_list``: MMAction2 splits a line on single spaces and unpacks
  two fields, so a path with a space is a ``ValueError: too many values to
  unpack`` with no file or line, and a label is never checked against the
  number of classes. Ours parses with :func:`~.annotation.parse_video_list`.
- ``prepare_data``: MMEngine's ``BaseDataset`` runs the whole pipeline in one
  call, so a decord failure surfaces as ``RuntimeError: Error reading
  <path>...`` whatever the cause. Ours runs the same transforms one by one,
  so it knows whether the header (``DecordInit``) or the frames
  (``DecordDecode``) failed, checks the frame count before sampling, and
  raises :class:`~.video_errors.BadVideoError` with the cause.
- ``__getitem__``: ``BaseDataset`` refetches only when the pipeline returns
  ``None``; an exception from a bad file ends the run. Ours replaces a bad
  training sample by a random other one (at most ``max_bad_retries`` in a
  row) and, in test mode, either raises (default) or, with
  ``skip_bad_videos=True``, hands out a stand-in sample tagged with the
  skipped path, which :class:`~a2mm.engine.SkippedVideosMetric` leaves out
  of the metrics and reports.

Everything else (metainfo, serialisation, ``multi_class`` one-hot labels,
``data_prefix``) is ``VideoDataset``'s.

Bad samples are reported through the data, not through the log of the
worker process that met them: the returned sample's ``data_samples``
carries ``replaced_videos`` (training) or ``skipped_video`` (testing) in its
metainfo, and :class:`~a2mm.engine.BadVideoHook` logs them in the main
process, each path once, with a count per epoch.
"""
import logging
import os.path as osp
from typing import Any, Callable, Dict, List, Optional, Union

from mmaction.datasets import VideoDataset
from mmaction.datasets.transforms import SampleFrames
from mmaction.registry import DATASETS
from mmengine.fileio import exists, get_text
from mmengine.logging import print_log

from .annotation import parse_video_list, read_class_names
from .video_errors import BadVideoError, describe_failure

__all__ = ['RobustVideoDataset']

REPLACED_KEY = 'replaced_videos'
SKIPPED_KEY = 'skipped_video'


@DATASETS.register_module()
class RobustVideoDataset(VideoDataset):
    """Video dataset with checked annotations and bad-video handling.

    Takes every argument of MMAction2's ``VideoDataset`` (``ann_file``,
    ``pipeline``, ``data_prefix``, ``multi_class``, ``num_classes``,
    ``test_mode``, ``delimiter``, ...), plus:

    Args:
        skip_bad_videos (bool): test mode only. False (default): a video
            that cannot be loaded raises :class:`BadVideoError` naming the
            file, its annotation line and the cause. True: it is left out of
            the evaluation and reported (needs
            :class:`~a2mm.engine.BadVideoHook`, which wraps the metrics).
            Training always replaces bad samples.
        max_bad_retries (int): training: how many bad videos in a row one
            sample may meet before giving up with an error (a list where
            most files are bad usually means a wrong ``data_prefix``).
            Test mode with ``skip_bad_videos``: how far to look for a
            stand-in. Defaults to 10.
        min_frames (int, optional): videos with fewer frames are bad.
            None (default): the frames one clip spans without looping,
            ``(clip_len - 1) * frame_interval + 1`` of the pipeline's
            ``SampleFrames``, and at least 2. Set 1 to accept any
            decodable video and let ``SampleFrames`` loop short ones.
        label_file (str, optional): class names, one per line (line i is
            class i); labels in ``ann_file`` may then be names, and indices
            are checked against the number of names.
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[dict, Callable]],
                 skip_bad_videos: bool = False,
                 max_bad_retries: int = 10,
                 min_frames: Optional[int] = None,
                 label_file: Optional[str] = None,
                 **kwargs: Any) -> None:
        if max_bad_retries < 0:
            raise ValueError(
                f'max_bad_retries must be >= 0, got {max_bad_retries}')
        if min_frames is not None and min_frames < 1:
            raise ValueError(f'min_frames must be >= 1, got {min_frames}')
        self.skip_bad_videos = skip_bad_videos
        self.max_bad_retries = max_bad_retries
        self.label_file = label_file
        self._min_frames_arg = min_frames
        super().__init__(ann_file, pipeline=pipeline, **kwargs)
        self.min_frames, self._min_frames_why = self._clip_span()

    # ------------------------------------------------------------ annotations
    def load_data_list(self) -> List[dict]:
        """Parse ``ann_file``; see :func:`parse_video_list` for the checks."""
        if not exists(self.ann_file):
            raise FileNotFoundError(
                f'annotation file {self.ann_file} does not exist')
        classes = None
        if self.label_file is not None:
            if not exists(self.label_file):
                raise FileNotFoundError(
                    f'label file {self.label_file} does not exist')
            classes = read_class_names(self.label_file,
                                       get_text(self.label_file))
            if self.num_classes is not None and \
                    self.num_classes != len(classes):
                raise ValueError(
                    f'num_classes={self.num_classes} but label file '
                    f'{self.label_file} names {len(classes)} classes')
        samples = parse_video_list(
            get_text(self.ann_file),
            self.ann_file,
            multi_class=self.multi_class,
            num_classes=self.num_classes,
            classes=classes,
            delimiter=self.delimiter,
            require_labels=not self.test_mode)
        prefix = self.data_prefix.get('video')
        for sample in samples:
            if prefix:
                sample['filename'] = osp.join(prefix, sample['filename'])
            sample['ann_line'] = sample.pop('line')
        return samples

    # ----------------------------------------------------------------- videos
    def _clip_span(self):
        """(min_frames, why) from the argument or the pipeline."""
        if self._min_frames_arg is not None:
            return self._min_frames_arg, f'min_frames={self._min_frames_arg}'
        for t in self.pipeline.transforms:
            if isinstance(t, SampleFrames):
                span = (t.clip_len - 1) * t.frame_interval + 1
                return max(2, span), (
                    f'one clip spans {span} frames: clip_len={t.clip_len}, '
                    f'frame_interval={t.frame_interval}; set min_frames=1 on '
                    'the dataset to loop short videos instead')
        return 2, 'a video needs at least 2 frames'

    def _bad(self, info: dict, reason: str) -> BadVideoError:
        path = info['filename']
        message = (f'{path}: {reason} ({self.ann_file}, line '
                   f'{info.get("ann_line", "?")})')
        if self.test_mode and not self.skip_bad_videos:
            message += (
                '. Fix or remove it, or set skip_bad_videos=True on this '
                'dataset (e.g. --cfg-options '
                'test_dataloader.dataset.skip_bad_videos=True) to leave it '
                'out of the evaluation; skipped videos are listed in the log '
                'and counted as skipped_videos in the metrics')
        return BadVideoError(message, path=path, reason=reason)

    def prepare_data(self, idx: int) -> Optional[dict]:
        """Run the pipeline on sample ``idx`` one transform at a time.

        Transforms up to the one that produces ``imgs`` (decord's
        ``DecordInit``/``SampleFrames``/``DecordDecode``) *read* the video:
        any exception there becomes a :class:`BadVideoError` that says what
        is wrong with the file. After the transform that sets
        ``total_frames``, videos shorter than ``min_frames`` are bad too.
        Exceptions of later transforms are bugs or config errors, not bad
        files; they propagate with a note naming the file.

        Returns:
            dict or None: the packed sample; None if a transform dropped it
            (MMEngine's convention).

        Raises:
            BadVideoError: the video cannot be read.
        """
        results = self.get_data_info(idx)
        info = dict(results)
        stage = 'open'  # -> 'decode' after total_frames, 'done' after imgs
        for transform in self.pipeline.transforms:
            try:
                results = transform(results)
            except Exception as exc:
                if stage == 'done':
                    exc.add_note(f'(while processing video '
                                 f'{info["filename"]} with {transform!r})')
                    raise
                reason = describe_failure(info['filename'], exc, stage)
                raise self._bad(info, reason) from exc
            if results is None:
                return None
            if stage == 'open' and 'total_frames' in results:
                stage = 'decode'
                total = results['total_frames']
                if total < self.min_frames:
                    raise self._bad(
                        info, f'has {total} frame(s), fewer than the '
                        f'{self.min_frames} needed ({self._min_frames_why})')
            if stage != 'done' and 'imgs' in results:
                stage = 'done'
        return results

    # --------------------------------------------------------------- sampling
    @staticmethod
    def _tag(data: dict, key: str, value: Any) -> bool:
        """Put ``key: value`` into the sample's data_samples metainfo."""
        samples = data.get('data_samples') if isinstance(data, dict) else None
        if samples is None or not hasattr(samples, 'set_metainfo'):
            return False
        samples.set_metainfo({key: value})
        return True

    def __getitem__(self, idx: int) -> dict:
        """Sample ``idx`` after the pipeline; see the class docstring for
        what happens to bad videos."""
        if not self._fully_initialized:
            self.full_init()
        skipping = self.test_mode and self.skip_bad_videos
        failures: List[Dict[str, str]] = []
        dropped = 0
        while True:
            try:
                data = self.prepare_data(idx)
            except BadVideoError as err:
                if self.test_mode and not self.skip_bad_videos:
                    raise
                failures.append(dict(path=err.path, reason=err.reason))
                if len(failures) > self.max_bad_retries:
                    raise self._too_many(failures) from err
                idx = (idx + 1) % len(self) if skipping else \
                    self._rand_another()
                continue
            if data is None:  # a transform dropped the sample
                if self.test_mode:
                    raise RuntimeError(
                        f'the test pipeline returned None for sample {idx}')
                dropped += 1
                if dropped > self.max_refetch:
                    raise RuntimeError(
                        f'the pipeline dropped {dropped} samples in a row '
                        f'(max_refetch={self.max_refetch})')
                idx = self._rand_another()
                continue
            break
        if skipping and failures:
            if not self._tag(data, SKIPPED_KEY, failures[0]):
                raise RuntimeError(
                    'skip_bad_videos=True needs a pipeline that ends with '
                    'PackActionInputs, to mark the skipped sample')
        elif failures and not self._tag(data, REPLACED_KEY, failures):
            for f in failures:  # no data_samples to carry them to the hook
                print_log(f'bad video replaced by another sample: '
                          f'{f["path"]}: {f["reason"]}', logger='current',
                          level=logging.WARNING)
        return data

    def _too_many(self, failures: List[Dict[str, str]]) -> BadVideoError:
        listed = '; '.join(f'{f["path"]}: {f["reason"]}'
                           for f in failures[-3:])
        return BadVideoError(
            f'{len(failures)} videos in a row could not be loaded '
            f'(max_bad_retries={self.max_bad_retries}); check data_prefix '
            f'{self.data_prefix.get("video")!r} and {self.ann_file}. The '
            f'last ones: {listed}',
            path=failures[-1]['path'],
            reason=failures[-1]['reason'])
