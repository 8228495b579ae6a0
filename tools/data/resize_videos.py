"""Resize every video of a folder tree to a short side (or a fixed size),
in parallel, resumably and atomically, keeping the frame rate and the layout.

Why: decoding is nearly all the cost of MMAction2's video pipelines, and it
grows with the source resolution (``tools/analysis/benchmark_data_pipeline.
py``); MMAction2 users therefore resize Kinetics to short side 256 or 320
once, before training. This does what MMAction2's
``tools/data/resize_videos.py`` does, with its flags and their meaning
(``--scale``, ``--dense``, ``--to-mp4``, ``--remove-dup``, ``--level``,
``--ext``, ``--num-worker``), so a command line from MMAction2's data docs
runs unchanged; and it avoids that tool's faults: it waits for each ffmpeg
and checks its exit status, runs under the ``spawn`` start method, passes
paths as arguments (spaces, quotes and ``$`` are safe), and, without
``--level``, finds videos at any folder depth.

* Encoder: ``ffmpeg`` on ``PATH``, else the binary inside the
  ``imageio-ffmpeg`` wheel (a dependency of a2mm), else ``--ffmpeg PATH``.
  H.264 (``libx264``, ``yuv420p``), no audio; VP9 for ``.webm`` outputs.
* Frame rate: every frame is kept with its timestamp (``-fps_mode
  passthrough``), so the frame count and the frame rate stay those of the
  source; each output is opened with decord and checked against the source
  before it is published. ``--remove-dup`` (MMAction2's) drops repeated
  frames instead (ffmpeg's ``mpdecimate``, variable frame rate): the output
  then has at most the source's frames.
* Layout: ``DST/<relative path>`` mirrors ``SRC/<relative path>``; the name
  and extension stay unless ``--to-mp4``, so annotation lists built for the
  original tree work unchanged on the resized one.
* Atomic and resumable: ffmpeg writes ``DST/<dir>/.<name>.part`` (hidden,
  not a video extension, so neither the list builders nor
  ``check_videos.py`` see it), which is renamed to the final name with
  ``os.replace`` only after the check. A killed run leaves no file under a
  video name that is not finished; the next run skips finished outputs and
  redoes the rest (``--resume``, the default; ``--overwrite`` redoes
  everything).
* Failures: one ``FAILED <path>: <reason>`` line each as they happen, a
  report (``--report``, default ``DST/resize_failures.txt``; one JSON
  object ``{"path": ..., "reason": ...}`` per line, paths relative to
  DST: the format of ``check_videos.py``, ``a2mm/datasets/exclusions.py``,
  so it can be passed to the list builders' ``--exclude``), and exit
  status 1.

Usage::

    python tools/data/resize_videos.py data/kinetics400/videos_train \
        data/kinetics400/videos_train_256 --scale 256 --nproc 16
    python tools/data/resize_videos.py SRC DST --size 340 256   # W H
    # MMAction2's command line (tools/data/kinetics/resize_videos.sh)
    python tools/data/resize_videos.py SRC DST --dense --level 2 --ext mp4
"""
import argparse
import multiprocessing
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
from typing import List, NamedTuple, Optional, Sequence, Tuple

from mmengine.utils import ProgressBar

from a2mm.datasets.exclusions import write_video_report
from a2mm.datasets.video_files import list_videos

#: output extension -> (ffmpeg muxer, video encoder)
CONTAINERS = {
    '.mp4': ('mp4', 'libx264'),
    '.m4v': ('mp4', 'libx264'),
    '.mov': ('mov', 'libx264'),
    '.mkv': ('matroska', 'libx264'),
    '.avi': ('avi', 'libx264'),
    '.webm': ('webm', 'libvpx-vp9'),
}
PART_SUFFIX = '.part'


class Job(NamedTuple):
    """One video to resize; picklable, the argument of :func:`resize_one`."""
    src: str
    dst: str
    rel: str  # the output's path relative to the destination root
    ffmpeg_args: Tuple[str, ...]  # filter and encoder options
    ffmpeg: str
    timeout: Optional[float]
    # every frame kept (checked: frame count and rate), else --remove-dup
    keep_frames: bool = True


def find_ffmpeg(explicit: Optional[str] = None) -> str:
    """The ffmpeg to run: ``explicit``, else ``ffmpeg`` on ``PATH``, else the
    one shipped in the ``imageio-ffmpeg`` wheel.

    Raises:
        FileNotFoundError: none of them exists (says how to get one).
    """
    if explicit:
        if not (osp.isfile(explicit) and os.access(explicit, os.X_OK)):
            raise FileNotFoundError(f'--ffmpeg {explicit}: no such '
                                    'executable')
        return explicit
    found = shutil.which('ffmpeg')
    if found:
        return found
    try:
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as error:
        raise FileNotFoundError(
            'no ffmpeg: install it (apt-get install ffmpeg), or '
            '`pip install imageio-ffmpeg` (a2mm depends on it), or pass '
            f'--ffmpeg PATH ({error})') from error


def frame_timing_option(ffmpeg: str,
                        mode: str = 'passthrough') -> Tuple[str, str]:
    """ffmpeg's option for the output's frame timing: ``-fps_mode MODE``
    since ffmpeg 5.1, ``-vsync MODE`` before. ``'passthrough'`` keeps every
    frame and timestamp; ``'vfr'`` lets a filter drop frames
    (``--remove-dup``)."""
    first = subprocess.run([ffmpeg, '-hide_banner', '-version'],
                           capture_output=True, text=True,
                           check=False).stdout.split('\n')[0]
    match = re.search(r'version n?(\d+)\.(\d+)', first)
    old = match is not None and (int(match[1]), int(match[2])) < (5, 1)
    return ('-vsync' if old else '-fps_mode', mode)


def scale_filter(scale: Optional[int], size: Optional[Sequence[int]],
                 remove_dup: bool = False) -> str:
    """ffmpeg's ``scale`` filter: the short side to ``scale`` keeping the
    aspect ratio (the other side rounded to an even number), or exactly
    ``size = (width, height)``; after ``mpdecimate`` (drops frames that
    repeat the previous one) with ``remove_dup``, as MMAction2's tool."""
    dedup = 'mpdecimate,' if remove_dup else ''
    if size is not None:
        return f'{dedup}scale={size[0]}:{size[1]}'
    # landscape: height = scale; portrait or square: width = scale
    return (f"{dedup}scale='if(gt(iw,ih),-2,{scale})':"
            f"'if(gt(iw,ih),{scale},-2)'")


def select_videos(videos: Sequence[str], level: Optional[int] = None,
                  ext: Optional[str] = None) -> List[str]:
    """MMAction2's ``--level`` and ``--ext``: the videos exactly ``level``
    folders deep (1: ``SRC/name.ext``, 2: ``SRC/class/name.ext``) whose
    extension is ``ext`` (``'mp4'``); None keeps every depth or extension."""
    return [rel for rel in videos
            if (level is None or len(rel.split(os.sep)) == level) and
            (ext is None or osp.splitext(rel)[1].lower() == '.' + ext)]


def encoder_args(ext: str, *, vf: str, timing: Tuple[str, str],
                 dense: bool, crf: int, preset: str,
                 tune: str) -> Tuple[str, ...]:
    """The ffmpeg options between input and output for an ``ext`` file."""
    muxer, codec = CONTAINERS[ext]
    args = ['-map', '0:v:0', '-vf', vf, *timing, '-an', '-c:v', codec,
            '-pix_fmt', 'yuv420p', '-crf', str(crf)]
    if codec == 'libx264':
        args += ['-preset', preset]
        if tune != 'none':
            args += ['-tune', tune]
    else:  # libvpx-vp9 needs -b:v 0 for constant quality
        args += ['-b:v', '0']
    if dense:  # a key frame every 16 frames: cheaper random access
        args += ['-g', '16']
    return tuple(args + ['-f', muxer])


def part_path(dst: str) -> str:
    """Where ffmpeg writes ``dst`` before it is published."""
    folder, name = osp.split(dst)
    return osp.join(folder, f'.{name}{PART_SUFFIX}')


def _probe(path: str) -> Tuple[int, float]:
    """(frames, fps) of a video as decord, the training reader, sees it."""
    import decord
    reader = decord.VideoReader(path, num_threads=1)
    frames = len(reader)
    if frames:
        reader[frames - 1].asnumpy()  # the index is real to the last frame
    return frames, reader.get_avg_fps()


def _last_lines(text: str, count: int = 3) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return ' | '.join(lines[-count:])[:400] or '(no message)'


def resize_one(job: Job) -> Tuple[str, Optional[str]]:
    """Resize one video; ``(rel, None)`` on success, ``(rel, reason)`` on
    failure. Runs in a worker process (top level, so ``spawn`` can pickle
    it) and never raises.
    """
    part = part_path(job.dst)
    try:
        os.makedirs(osp.dirname(job.dst), exist_ok=True)
        command = [job.ffmpeg, '-hide_banner', '-nostdin', '-loglevel',
                   'error', '-y', '-i', job.src, *job.ffmpeg_args, part]
        try:
            done = subprocess.run(command, capture_output=True, text=True,
                                  timeout=job.timeout, check=False)
        except subprocess.TimeoutExpired:
            return job.rel, f'ffmpeg took longer than {job.timeout} s'
        if done.returncode != 0:
            return job.rel, (f'ffmpeg exit status {done.returncode}: '
                             f'{_last_lines(done.stderr)}')
        try:
            frames, fps = _probe(part)
        except Exception as error:  # decord raises its own DECORDError types
            kind = type(error).__name__
            return job.rel, (f'the output does not decode: {kind}: '
                             f'{_last_lines(str(error), 1)}')
        if frames == 0:
            return job.rel, 'the output has no frames'
        try:
            src_frames, src_fps = _probe(job.src)
        except Exception:  # ffmpeg read it, decord cannot: nothing to match
            src_frames, src_fps = frames, fps
        if not job.keep_frames:  # --remove-dup: fewer frames, other rate
            if frames > src_frames:
                return job.rel, (f'frame count grew: {src_frames} -> '
                                 f'{frames}')
        elif abs(fps - src_fps) > 1e-3 * max(src_fps, 1.0):
            return job.rel, f'frame rate changed: {src_fps:g} -> {fps:g}'
        elif frames != src_frames:
            return job.rel, (f'frame count changed: {src_frames} -> '
                             f'{frames}')
        os.replace(part, job.dst)
        return job.rel, None
    except OSError as error:
        return job.rel, f'{type(error).__name__}: {error}'
    finally:
        if osp.exists(part):
            os.remove(part)


def plan_jobs(src_root: str, dst_root: str, videos: Sequence[str], *,
              to_mp4: bool, overwrite: bool, ffmpeg: str,
              common: dict, timeout: Optional[float],
              keep_frames: bool = True
              ) -> Tuple[List[Job], int, List[Tuple[str, str]]]:
    """Jobs for the videos whose output is not there yet.

    Returns:
        (jobs, number already done, [(rel, reason)] for videos that cannot
        be resized as asked, e.g. an unknown extension)
    """
    jobs, done, refused = [], 0, []
    for rel in videos:
        stem, ext = osp.splitext(rel)
        out_rel = stem + '.mp4' if to_mp4 else rel
        out_ext = osp.splitext(out_rel)[1].lower()
        if out_ext not in CONTAINERS:
            refused.append((out_rel, f'unsupported extension {ext!r} (use '
                            f'--to-mp4; known: {sorted(CONTAINERS)})'))
            continue
        dst = osp.join(dst_root, out_rel)
        if not overwrite and osp.isfile(dst):
            done += 1
            continue
        jobs.append(Job(osp.join(src_root, rel), dst, out_rel,
                        encoder_args(out_ext, **common), ffmpeg, timeout,
                        keep_frames))
    return jobs, done, refused


def run_jobs(jobs: Sequence[Job], nproc: int,
             start_method: str) -> List[Tuple[str, str]]:
    """Run ``jobs`` on ``nproc`` processes with a progress bar; print each
    failure as it happens and return them, sorted."""
    failures = []
    bar = ProgressBar(len(jobs))

    def record(rel: str, reason: Optional[str]) -> None:
        if reason:
            failures.append((rel, reason))
            print(f'\nFAILED {rel}: {reason}', file=sys.stderr, flush=True)
        bar.update()

    if nproc > 1 and len(jobs) > 1:
        context = multiprocessing.get_context(start_method)
        with context.Pool(min(nproc, len(jobs))) as pool:
            for rel, reason in pool.imap_unordered(resize_one, jobs):
                record(rel, reason)
    else:
        for job in jobs:
            record(*resize_one(job))
    return sorted(failures)


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src_dir', help='folder of source videos (any depth)')
    parser.add_argument('out_dir', help='folder of the resized videos')
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--scale', type=int, default=256,
                       help='short side in pixels, aspect ratio kept '
                       '(default 256, as MMAction2)')
    group.add_argument('--size', type=int, nargs=2, metavar=('W', 'H'),
                       help='exact width and height instead')
    parser.add_argument('--ann-file',
                        help='resize only the videos of this annotation list '
                        '(paths relative to src_dir)')
    parser.add_argument('--level', type=int, choices=[1, 2],
                        help='as MMAction2: only videos this many folders '
                        'deep (1: SRC/x.mp4, 2: SRC/class/x.mp4); default: '
                        'any depth')
    parser.add_argument('--ext', choices=['avi', 'mp4', 'webm', 'mkv'],
                        help='as MMAction2: only videos with this extension; '
                        'default: every video extension')
    parser.add_argument('--to-mp4', action='store_true',
                        help='write .mp4 whatever the source container')
    parser.add_argument('--dense', action='store_true',
                        help='a key frame every 16 frames (faster seeking, '
                        'bigger files), as MMAction2')
    parser.add_argument('--remove-dup', action='store_true',
                        help='as MMAction2: drop frames that repeat the '
                        'previous one (mpdecimate, variable frame rate)')
    parser.add_argument('--crf', type=int, default=23,
                        help='constant quality of the encoder (default 23)')
    parser.add_argument('--preset', default='veryfast',
                        help='libx264 speed preset (default veryfast)')
    parser.add_argument('--tune', default='fastdecode',
                        choices=['fastdecode', 'film', 'animation', 'grain',
                                 'none'],
                        help='libx264 tuning (default fastdecode: no CABAC '
                        'and no deblocking, cheaper to decode in training; '
                        'none: x264 defaults, as MMAction2)')
    parser.add_argument('--nproc', '--num-worker', type=int,
                        default=os.cpu_count() or 1,
                        help='worker processes (default: all cores; '
                        '--num-worker is MMAction2\'s name)')
    parser.add_argument('--start-method', default='spawn',
                        choices=multiprocessing.get_all_start_methods())
    redo = parser.add_mutually_exclusive_group()
    redo.add_argument('--resume', action='store_true',
                      help='skip outputs that already exist (the default; '
                      'the meaning of --resume in MMAction2\'s data tools)')
    redo.add_argument('--overwrite', action='store_true',
                      help='redo outputs that already exist')
    parser.add_argument('--timeout', type=float, default=3600,
                        help='seconds one video may take (default 3600)')
    parser.add_argument('--ffmpeg', help='the ffmpeg executable to use')
    parser.add_argument('--report',
                        help='failure report (default: '
                        'OUT_DIR/resize_failures.txt)')
    args = parser.parse_args(argv)
    if args.report is None:
        args.report = osp.join(args.out_dir, 'resize_failures.txt')
    sizes = args.size if args.size is not None else [args.scale]
    if any(s <= 0 or s % 2 for s in sizes):
        parser.error(f'sizes must be positive and even (H.264 with yuv420p), '
                     f'got {" ".join(map(str, sizes))}')
    src, out = osp.abspath(args.src_dir), osp.abspath(args.out_dir)
    if out == src or out.startswith(src + os.sep):
        parser.error(f'out_dir {args.out_dir} must not be src_dir or inside '
                     'it (its videos would be listed as sources)')
    if not osp.isdir(args.src_dir):
        parser.error(f'src_dir {args.src_dir}: no such folder')
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    ffmpeg = find_ffmpeg(args.ffmpeg)
    videos = select_videos(list_videos(args.src_dir, args.ann_file),
                           args.level, args.ext)
    timing = 'vfr' if args.remove_dup else 'passthrough'
    common = dict(vf=scale_filter(args.scale, args.size, args.remove_dup),
                  timing=frame_timing_option(ffmpeg, timing),
                  dense=args.dense, crf=args.crf, preset=args.preset,
                  tune=args.tune)
    jobs, done, failures = plan_jobs(
        args.src_dir, args.out_dir, videos, to_mp4=args.to_mp4,
        overwrite=args.overwrite, ffmpeg=ffmpeg, common=common,
        timeout=args.timeout, keep_frames=not args.remove_dup)
    target = (f'{args.size[0]}x{args.size[1]}' if args.size else
              f'short side {args.scale}')
    print(f'{len(videos)} videos under {args.src_dir}: {done} already done, '
          f'{len(jobs)} to resize to {target} with {ffmpeg}')
    for rel, reason in failures:
        print(f'FAILED {rel}: {reason}', file=sys.stderr)
    failures += run_jobs(jobs, args.nproc, args.start_method)
    os.makedirs(osp.dirname(osp.abspath(args.report)), exist_ok=True)
    write_video_report(
        args.report, f'resize_videos.py: {len(failures)} of {len(videos)} '
        f'videos under {args.src_dir} failed ({target}, paths relative to '
        f'{args.out_dir})', failures)
    print(f'\n{len(videos) - len(failures)} of {len(videos)} videos in '
          f'{args.out_dir}; {len(failures)} failed -> {args.report}')
    return 1 if failures else 0


if __name__ == '__main__':
    raise SystemExit(main())
