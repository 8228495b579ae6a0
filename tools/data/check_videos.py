"""Open every video of an annotation list (or folder) with decord, in
parallel, and report the unreadable ones and those shorter than one clip.

Each video first has its container structure checked (a truncated AVI or
MP4, or an MP4 whose sample tables point outside the file, is reported
without being handed to decord, which crashes on such files:
``a2mm/datasets/container_check.py``), then it is opened, its length
read, and its first and last frames decoded. Decord runs in worker
processes only: a video that crashes it is reported (``decord crashed the
checking process``) and the check goes on.

A video fails when any of that raises, when it has fewer than
``--min-frames`` frames (default 1, as ``RobustVideoDataset``), or, with
``--no-loop-short-videos`` (the dataset's ``loop_short_videos=False``),
when it is shorter than one clip of ``--clip-len`` x ``--frame-interval``
(``(clip_len - 1) * frame_interval + 1`` frames, 57 for the 8x8 Kinetics
pipeline: the definition the dataset uses). Without that flag, short
videos are used and looped by ``SampleFrames``, as in MMAction2: they are
listed with ``"looped": true`` and not excluded.

The report (``a2mm/datasets/exclusions.py``) lists one video per line as
JSON, ``{"path": ..., "reason": ...}``, paths relative to ``--video-root``
(any file name, tabs and newlines included, is carried exactly); pass it to
the list builders with ``--exclude`` to leave the failed videos out.

Usage::

    python tools/data/check_videos.py --video-root data/ucf101/videos \
        --ann-file data/ucf101/ucf101_train_split_1_videos.txt \
        --clip-len 8 --frame-interval 8 --nproc 8 \
        --out data/ucf101/bad_videos.txt
    python tools/data/check_videos.py --video-root data/kinetics400/videos_val
"""
import argparse
import faulthandler
import multiprocessing as mp
import os
import os.path as osp
import signal
from multiprocessing.connection import wait
from typing import List, Optional, Sequence, Tuple

from mmengine.utils import ProgressBar

from a2mm.datasets.clip_span import clip_span
from a2mm.datasets.container_check import container_problem
from a2mm.datasets.exclusions import write_video_report
from a2mm.datasets.video_files import list_videos

SHORT = 'short'  # reason prefix of a video shorter than one clip


def check_video(task: Tuple[str, str, int, int]) -> Optional[str]:
    """Why the video ``task = (root, rel, min_frames, span)`` is bad, or
    None; a reason starting with ``'short'`` marks a video shorter than one
    clip (``span`` frames).

    Runs in a worker process; never raises.
    """
    root, rel, min_frames, span = task
    path = osp.join(root, rel)
    if not osp.isfile(path):
        return 'missing'
    if osp.getsize(path) == 0:
        return 'empty file'
    try:
        problem = container_problem(path)
    except OSError as error:
        return f'unreadable: {error}'
    if problem:
        return f'unreadable: {problem}'
    try:
        import decord
        reader = decord.VideoReader(path, num_threads=1)
        num_frames = len(reader)
        if num_frames < min_frames:
            return f'too short: {num_frames} frames < {min_frames}'
        reader[0].asnumpy()
        reader[num_frames - 1].asnumpy()
    except Exception as error:  # decord raises its own DECORDError types
        lines = [ln for ln in str(error).splitlines() if ln.strip()]
        text = (lines[-1] if lines else '')[:200]
        return f'unreadable: {type(error).__name__}: {text}'
    if num_frames < span:
        return (f'{SHORT}: {num_frames} frames < {span}, one clip; '
                'SampleFrames loops it')
    return None


def _serve(conn) -> None:
    """Worker: check the tasks sent over ``conn`` until None comes."""
    faulthandler.disable()  # a crash is expected, reported by the parent
    while True:
        task = conn.recv()
        if task is None:
            return
        conn.send(check_video(task))


def check_isolated(tasks: Sequence[tuple], nproc: int) -> List[Optional[str]]:
    """:func:`check_video` for every task in ``nproc`` worker processes,
    one task at a time each, with a progress bar. A worker that dies (a
    decoder crash) is replaced, and its video gets the signal as reason.
    """
    results: List[Optional[str]] = [None] * len(tasks)
    progress = ProgressBar(len(tasks))
    todo = iter(range(len(tasks)))
    workers = {}  # connection -> (process, index of its task)

    def start(index: int) -> None:
        parent, child = mp.Pipe()
        proc = mp.Process(target=_serve, args=(child, ), daemon=True)
        proc.start()
        child.close()
        parent.send(tasks[index])
        workers[parent] = (proc, index)

    for _ in range(max(1, min(nproc, len(tasks)))):
        index = next(todo, None)
        if index is not None:
            start(index)
    while workers:
        for conn in wait(list(workers)):
            proc, index = workers.pop(conn)
            try:
                results[index] = conn.recv()
                alive = True
            except EOFError:  # the worker died on this video
                proc.join()
                code = -proc.exitcode if proc.exitcode else 0
                name = (signal.Signals(code).name
                        if code in signal.Signals._value2member_map_ else
                        f'exit code {proc.exitcode}')
                results[index] = (f'unreadable: decord crashed the checking '
                                  f'process ({name})')
                alive = False
            progress.update()
            following = next(todo, None)
            if following is None:
                if alive:
                    conn.send(None)
                    proc.join()
                continue
            if alive:
                conn.send(tasks[following])
                workers[conn] = (proc, following)
            else:
                start(following)
    return results


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--video-root', required=True)
    parser.add_argument('--ann-file',
                        help='annotation list (default: every video file '
                        'under --video-root)')
    parser.add_argument('--min-frames', type=int, default=1,
                        help='videos with fewer frames fail (default 1, as '
                        "the dataset's min_frames)")
    parser.add_argument('--clip-len', type=int, default=1,
                        help="clip_len of the config's SampleFrames")
    parser.add_argument('--frame-interval', type=int, default=1,
                        help="frame_interval of the config's SampleFrames")
    parser.add_argument('--no-loop-short-videos', action='store_true',
                        help='videos shorter than one clip fail (the '
                        "dataset's loop_short_videos=False); default: they "
                        'are listed as looped, not failed')
    parser.add_argument('--nproc', type=int, default=os.cpu_count() or 1)
    parser.add_argument('--out', default='bad_videos.txt',
                        help='report file')
    args = parser.parse_args(argv)
    span = clip_span(args.clip_len, args.frame_interval)

    videos = list_videos(args.video_root, args.ann_file)
    tasks = [(args.video_root, rel, args.min_frames, span) for rel in videos]
    reasons = check_isolated(tasks, args.nproc)
    loop = not args.no_loop_short_videos
    short = [(rel, why) for rel, why in zip(videos, reasons)
             if loop and why and why.startswith(SHORT)]
    bad = [(rel, why) for rel, why in zip(videos, reasons)
           if why and not (loop and why.startswith(SHORT))]
    write_video_report(
        args.out, f'check_videos.py: {len(bad)} of {len(videos)} videos '
        f'under {args.video_root} failed (min frames {args.min_frames}, one '
        f'clip {span} frames, short videos '
        f'{"are looped" if loop else "fail"})', bad, short)
    print(f'\n{len(bad)} of {len(videos)} videos failed, {len(short)} are '
          f'shorter than one clip ({span} frames) and looped -> {args.out}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
