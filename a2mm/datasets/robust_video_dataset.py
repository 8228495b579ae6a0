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
  raises :class:`~.video_errors.BadVideoError` with the cause. Before the
  pipeline, a local AVI or MP4/MOV file has its structure checked
  (:func:`~.container_check.container_problem`: AVI chunk sizes, MP4 boxes
  and sample tables against the file): decord ends the process on a
  truncated AVI read from memory, on MP4 chunk offsets past the end of the
  file (SIGSEGV) and on a huge ``stts`` sample count (SIGABRT), which
  would kill the worker, or the run with ``num_workers=0``.
- ``__getitem__``: ``BaseDataset`` refetches only when the pipeline returns
  ``None``; an exception from a bad file ends the run. Ours replaces a bad
  training sample by a random other one (at most ``max_bad_retries`` in a
  row) and, in test mode, either raises (default) or, with
  ``skip_bad_videos=True``, hands out a stand-in sample tagged with the
  skipped path, which :class:`~a2mm.evaluation.SkippedVideosMetric` leaves
  out of the metrics and reports (any number of bad videos, in a row or not).

A video shorter than one clip (:mod:`.clip_span`) is used as MMAction2
uses it (``SampleFrames`` loops it) and tagged ``looped_video``, so that
:class:`~a2mm.engine.hooks.BadVideoHook` counts them;
``loop_short_videos=False`` makes such videos bad instead. Every sample carries its video path as
``filename`` in its metainfo (``tools/test.py --dump`` rows name their
video).

Everything else (metainfo, serialisation, ``multi_class`` one-hot labels,
``data_prefix``) is ``VideoDataset``'s.

Bad and looped samples are reported through the data, not through the log of the
worker process that met them: the returned sample's ``data_samples``
carries ``replaced_videos`` (training) or ``skipped_video`` (testing) in its
metainfo (keys: :mod:`.metainfo_keys`), and
:class:`~a2mm.engine.hooks.BadVideoHook` logs them in the main process, each
path once, with a count per epoch.
"""
import logging
import os.path as osp
from typing import Any, Callable, Dict, List, Optional, Set, Union

from mmaction.datasets import VideoDataset
from mmaction.registry import DATASETS
from mmengine.fileio import exists, get
from mmengine.logging import print_log

from .annotation import (decode_text, duplicate_lines, parse_video_list,
                         read_class_names)
from .clip_span import pipeline_clip_span
from .container_check import container_problem
from .metainfo_keys import FILENAME_KEY, LOOPED_KEY, REPLACED_KEY, SKIPPED_KEY
from .video_errors import BadVideoError, describe_failure, frames_problem

__all__ = ['RobustVideoDataset']


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
            :class:`~a2mm.engine.hooks.BadVideoHook`, which wraps the
            metrics in :class:`~a2mm.evaluation.SkippedVideosMetric`, or
            that metric in the config), however many there are. Training always replaces bad samples.
        max_bad_retries (int): training: how many bad videos in a row one
            sample may meet before giving up with an error (a list where
            most files are bad usually means a wrong ``data_prefix``).
            Defaults to 10.
        loop_short_videos (bool): a decodable video with fewer frames than
            one clip spans (``(clip_len - 1) * frame_interval + 1`` of the
            pipeline's ``SampleFrames``) is used, its frames looped by
            ``SampleFrames`` as in MMAction2, and counted by
            :class:`~a2mm.engine.hooks.BadVideoHook`. False: such a video is
            bad (replaced in training; an error, or skipped, in testing).
            Defaults to True.
        min_frames (int): videos with fewer frames are always bad.
            Defaults to 1 (any decodable video is used).
        label_file (str, optional): class names, one per line (line i is
            class i); labels in ``ann_file`` may then be names, and indices
            are checked against the number of names.
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[dict, Callable]],
                 *,
                 skip_bad_videos: bool = False,
                 max_bad_retries: int = 10,
                 loop_short_videos: bool = True,
                 min_frames: int = 1,
                 label_file: Optional[str] = None,
                 **kwargs: Any) -> None:
        if max_bad_retries < 0:
            raise ValueError(
                f'max_bad_retries must be >= 0, got {max_bad_retries}')
        if min_frames is None or min_frames < 1:
            raise ValueError(f'min_frames must be >= 1, got {min_frames}')
        self.skip_bad_videos = skip_bad_videos
        self.max_bad_retries = max_bad_retries
        self.loop_short_videos = loop_short_videos
        self.min_frames = min_frames
        self.label_file = label_file
        self._stand_in: Optional[int] = None  # a readable index (skipping)
        self._unreadable: Set[int] = set()  # indices known bad (skipping)
        super().__init__(ann_file, pipeline=pipeline, **kwargs)
        self._clip_span = pipeline_clip_span(self.pipeline.transforms)

    # ------------------------------------------------------------ annotations
    def load_data_list(self) -> List[dict]:
        """Parse ``ann_file``; see :func:`parse_video_list` for the checks.
        Videos listed twice are reported as a warning."""
        if not exists(self.ann_file):
            raise FileNotFoundError(
                f'annotation file {self.ann_file} does not exist')
        classes = None
        if self.label_file is not None:
            if not exists(self.label_file):
                raise FileNotFoundError(
                    f'label file {self.label_file} does not exist')
            classes = read_class_names(
                self.label_file,
                decode_text(get(self.label_file), self.label_file))
            if self.num_classes is not None and \
                    self.num_classes != len(classes):
                raise ValueError(
                    f'num_classes={self.num_classes} but label file '
                    f'{self.label_file} names {len(classes)} classes')
        samples = parse_video_list(
            decode_text(get(self.ann_file), self.ann_file),
            self.ann_file,
            multi_class=self.multi_class,
            num_classes=self.num_classes,
            classes=classes,
            delimiter=self.delimiter)
        repeated = duplicate_lines(samples, self.ann_file)
        if repeated:
            print_log(repeated, logger='current', level=logging.WARNING)
        prefix = self.data_prefix.get('video')
        for sample in samples:
            if prefix:
                sample['filename'] = osp.join(prefix, sample['filename'])
            sample['ann_line'] = sample.pop('line')
        return samples

    # ----------------------------------------------------------------- videos
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

    def _check_length(self, info: dict, total: int) -> Optional[dict]:
        """Raise for a video below ``min_frames`` (or shorter than one clip
        with ``loop_short_videos=False``); return the ``looped_video`` tag
        of a short one that ``SampleFrames`` will loop, else None."""
        if total < self.min_frames:
            raise self._bad(info, f'has {total} frame(s), fewer than '
                            f'min_frames={self.min_frames}')
        if self._clip_span is None or total >= self._clip_span[0]:
            return None
        span, why = self._clip_span
        if not self.loop_short_videos:
            raise self._bad(
                info, f'has {total} frame(s), fewer than one clip needs '
                f'({why}; loop_short_videos=False)')
        return dict(path=info['filename'], frames=total, span=span)

    def prepare_data(self, idx: int) -> Optional[dict]:
        """Run the pipeline on sample ``idx`` one transform at a time.

        A local AVI or MP4/MOV file is first checked structurally
        (:func:`container_problem`), so that a file that would crash
        decord never reaches it. Transforms up to the one that
        produces ``imgs`` (decord's ``DecordInit``/``SampleFrames``/
        ``DecordDecode``) *read* the video: any exception there becomes a
        :class:`BadVideoError` that says what is wrong with the file. After
        the transform that sets ``total_frames``, the length is checked
        (:meth:`_check_length`); after the one that sets ``imgs``, the
        frames' shape. Exceptions of later transforms are bugs or config
        errors, not bad files; they propagate with a note naming the file.

        Returns:
            dict or None: the packed sample, its metainfo carrying
            ``filename`` (and ``looped_video`` for a short video); None if
            a transform dropped it (MMEngine's convention).

        Raises:
            BadVideoError: the video cannot be read.
        """
        results = self.get_data_info(idx)
        info = dict(results)
        if osp.isfile(info['filename']):  # local file: check its structure
            try:
                problem = container_problem(info['filename'])
            except OSError as err:
                problem = f'cannot be read: {err}'
            if problem:
                raise self._bad(info, problem)
        looped = None
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
                looped = self._check_length(info, results['total_frames'])
            if stage != 'done' and 'imgs' in results:
                stage = 'done'
                problem = frames_problem(results['imgs'])
                if problem:
                    raise self._bad(info, problem)
        self._tag(results, FILENAME_KEY, info['filename'])
        if looped is not None:
            self._tag(results, LOOPED_KEY, looped)
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
        if self.test_mode:
            return self._test_item(idx)
        failures: List[Dict[str, str]] = []
        dropped = 0
        while True:
            try:
                data = self.prepare_data(idx)
            except BadVideoError as err:
                failures.append(dict(path=err.path, reason=err.reason))
                if len(failures) > self.max_bad_retries:
                    raise self._too_many(failures) from err
                idx = self._rand_another()
                continue
            if data is None:  # a transform dropped the sample
                dropped += 1
                if dropped > self.max_refetch:
                    raise RuntimeError(
                        f'the pipeline dropped {dropped} samples in a row '
                        f'(max_refetch={self.max_refetch})')
                idx = self._rand_another()
                continue
            break
        if failures and not self._tag(data, REPLACED_KEY, failures):
            for f in failures:  # no data_samples to carry them to the hook
                print_log(f'bad video replaced by another sample: '
                          f'{f["path"]}: {f["reason"]}', logger='current',
                          level=logging.WARNING)
        return data

    def _test_item(self, idx: int) -> dict:
        """Test mode: sample ``idx``, or (``skip_bad_videos``) a stand-in
        tagged ``skipped_video`` when its video cannot be read."""
        try:
            data = self._prepare_test(idx)
        except BadVideoError as err:
            if not self.skip_bad_videos:
                raise
            self._unreadable.add(idx)
            data = self._stand_in_sample()
            skipped = dict(path=err.path, reason=err.reason)
            if not self._tag(data, SKIPPED_KEY, skipped):
                raise RuntimeError(
                    'skip_bad_videos=True needs a pipeline that ends with '
                    'PackActionInputs, to mark the skipped sample') from err
            self._tag(data, FILENAME_KEY, err.path)
        return data

    def _prepare_test(self, idx: int) -> dict:
        data = self.prepare_data(idx)
        if data is None:
            raise RuntimeError(
                f'the test pipeline returned None for sample {idx}')
        return data

    def _stand_in_sample(self) -> dict:
        """Any readable sample of the list (only its shape matters: the
        metrics leave it out). The first found is remembered, so a run of
        bad videos costs one scan, however long it is."""
        order = ([self._stand_in] if self._stand_in is not None else []) + [
            i for i in range(len(self)) if i not in self._unreadable
        ]
        for idx in order:
            try:
                data = self._prepare_test(idx)
            except BadVideoError:
                self._unreadable.add(idx)
                continue
            self._stand_in = idx
            return data
        raise BadVideoError(
            f'none of the {len(self)} videos of {self.ann_file} can be read '
            f'(check data_prefix {self.data_prefix.get("video")!r})')

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
