"""Open every video of an annotation list (or folder) with decord, in
parallel, and report the unreadable and too-short ones.

Each video is opened, its length read, and its first and last frames
decoded. A video fails when any of that raises, or when it has fewer than
``--min-frames`` frames (e.g. clip_len x frame_interval of your config:
64 for the 8x8 Kinetics pipeline). The report lists one failure per line,
``<path>\\t<reason>``, paths relative to ``--video-root``; pass it to the
list builders with ``--exclude`` to leave those videos out.

Usage::

    python tools/data/check_videos.py --video-root data/ucf101/videos \
        --ann-file data/ucf101/ucf101_train_split_1_videos.txt \
        --min-frames 16 --nproc 8 --out data/ucf101/bad_videos.txt
    python tools/data/check_videos.py --video-root data/kinetics400/videos_val
"""
import argparse
import os
import os.path as osp
from typing import List, Optional, Tuple

from mmengine.utils import track_parallel_progress

VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mkv', '.webm', '.mov', '.m4v')


def list_videos(video_root: str, ann_file: Optional[str]) -> List[str]:
    """Relative video paths: the first field of each line of ``ann_file``,
    or every video file under ``video_root``, sorted."""
    if ann_file is not None:
        with open(ann_file, encoding='utf-8') as f:
            return [line.rsplit(maxsplit=1)[0] if len(line.split()) > 1
                    else line.strip() for line in f if line.strip()]
    found = []
    for folder, _, files in os.walk(video_root):
        found += [osp.relpath(osp.join(folder, name), video_root)
                  for name in files
                  if name.lower().endswith(VIDEO_EXTENSIONS)]
    return sorted(found)


def check_video(task: Tuple[str, str, int]) -> Optional[str]:
    """Why the video ``task = (root, rel, min_frames)`` is bad, or None.

    Runs in a worker process; never raises.
    """
    root, rel, min_frames = task
    path = osp.join(root, rel)
    if not osp.isfile(path):
        return 'missing'
    if osp.getsize(path) == 0:
        return 'empty file'
    try:
        import decord
        reader = decord.VideoReader(path, num_threads=1)
        num_frames = len(reader)
        if num_frames < min_frames:
            return f'too short: {num_frames} frames < {min_frames}'
        reader[0].asnumpy()
        reader[num_frames - 1].asnumpy()
    except Exception as error:  # decord raises its own DECORDError types
        first_line = (str(error).splitlines() or [''])[0][:200]
        return f'unreadable: {type(error).__name__}: {first_line}'
    return None


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--video-root', required=True)
    parser.add_argument('--ann-file',
                        help='annotation list (default: every video file '
                        'under --video-root)')
    parser.add_argument('--min-frames', type=int, default=1)
    parser.add_argument('--nproc', type=int, default=os.cpu_count() or 1)
    parser.add_argument('--out', default='bad_videos.txt',
                        help='report file')
    args = parser.parse_args(argv)

    videos = list_videos(args.video_root, args.ann_file)
    tasks = [(args.video_root, rel, args.min_frames) for rel in videos]
    if args.nproc > 1 and len(tasks) > 1:
        reasons = track_parallel_progress(check_video, tasks, args.nproc)
    else:
        reasons = [check_video(task) for task in tasks]
    bad = [(rel, why) for rel, why in zip(videos, reasons) if why]
    with open(args.out, 'w', encoding='utf-8') as f:
        f.write(f'# check_videos.py: {len(bad)} of {len(videos)} videos '
                f'under {args.video_root} failed (min frames '
                f'{args.min_frames})\n')
        f.writelines(f'{rel}\t{why}\n' for rel, why in bad)
    print(f'\n{len(bad)} of {len(videos)} videos failed -> {args.out}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
