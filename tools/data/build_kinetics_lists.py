"""Kinetics-400 CSV annotations -> MMAction2 annotation lists and label map.

Input: the official CSV files (``kinetics400/train.csv``,
``validate.csv``), with the columns ``label,youtube_id,time_start,time_end,
split`` (an extra ``is_cc`` column is ignored). Each row is one clip; its
file is ``<youtube_id>_<time_start:06d>_<time_end:06d>.mp4``, either flat in
the video folder (``--layout flat``, MMAction2's download script) or under a
folder per class (``--layout by_class``, with spaces in class names as
in the CSV).

Output (``--out``, default ``data/kinetics400``; the names that
``configs/_base_/datasets/kinetics400_video.py`` reads)::

    kinetics400_train_list_videos.txt   "<file> <label>"
    kinetics400_val_list_videos.txt
    label_map_k400.txt                  the 400 class names, sorted

Labels are the positions of the class names in alphabetical order (as in
MMAction2's ``label_map_k400.txt``). With ``--video-dir-*``, rows whose
file is not on disk are left out (many YouTube clips have disappeared), and
so are the files named in a ``check_videos.py`` report (``--exclude``).

Usage::

    python tools/data/build_kinetics_lists.py \
        --train-csv data/kinetics400/annotations/train.csv \
        --val-csv data/kinetics400/annotations/val.csv \
        --video-dir-train data/kinetics400/videos_train \
        --video-dir-val data/kinetics400/videos_val [--exclude bad.txt]
"""
import argparse
import csv
import os
import os.path as osp
from typing import Dict, List, Optional, Set, Tuple

from a2mm.datasets.exclusions import read_exclusions

REQUIRED = ('label', 'youtube_id', 'time_start', 'time_end')


def read_csv(path: str) -> List[Dict[str, str]]:
    """Rows of a Kinetics CSV.

    Raises:
        ValueError: a required column is missing (names the file and the
            columns found).
    """
    with open(path, encoding='utf-8', newline='') as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f'{path}: missing columns {missing}; found '
                             f'{reader.fieldnames}, expected {list(REQUIRED)}')
        return list(reader)


def clip_path(row: Dict[str, str], layout: str) -> str:
    """The file name of a CSV row under ``layout`` ('flat' | 'by_class')."""
    name = (f"{row['youtube_id']}_{int(float(row['time_start'])):06d}_"
            f"{int(float(row['time_end'])):06d}.mp4")
    return name if layout == 'flat' else f"{row['label']}/{name}"


def build_list(path: str, rows: List[Dict[str, str]],
               class_to_label: Dict[str, int], layout: str,
               video_dir: Optional[str],
               excluded: Set[str]) -> Tuple[List[str], int, int]:
    """Annotation lines for ``rows``.

    Returns:
        (lines, missing on disk, excluded by the report)

    Raises:
        ValueError: a class that is not in the label map, or a video name
            with a line break that is not excluded (file and row).
    """
    lines, missing, skipped = [], 0, 0
    for number, row in enumerate(rows, 2):  # line 1 is the header
        if row['label'] not in class_to_label:
            raise ValueError(f'{path}, line {number}: class '
                             f"{row['label']!r} is not in the training CSV")
        rel = clip_path(row, layout)
        if rel in excluded:
            skipped += 1
        elif '\n' in rel or '\r' in rel:
            raise ValueError(f'{path}, line {number}: video {rel!r} has a '
                             'line break in its name: an annotation list '
                             'holds one video per line (rename it, or '
                             'exclude it)')
        elif video_dir is not None and not osp.isfile(
                osp.join(video_dir, rel)):
            missing += 1
        else:
            lines.append(f"{rel} {class_to_label[row['label']]}\n")
    return lines, missing, skipped


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--train-csv', required=True)
    parser.add_argument('--val-csv', required=True)
    parser.add_argument('--video-dir-train',
                        help='keep only rows whose video is in this folder')
    parser.add_argument('--video-dir-val')
    parser.add_argument('--layout', choices=['flat', 'by_class'],
                        default='flat')
    parser.add_argument('--out', default='data/kinetics400')
    parser.add_argument('--exclude',
                        help='report of check_videos.py: leave these out')
    args = parser.parse_args(argv)

    train_rows = read_csv(args.train_csv)
    classes = sorted({row['label'] for row in train_rows})
    class_to_label = {name: i for i, name in enumerate(classes)}
    excluded = read_exclusions(args.exclude)
    os.makedirs(args.out, exist_ok=True)
    for split, csv_path, rows, video_dir in (
            ('train', args.train_csv, train_rows, args.video_dir_train),
            ('val', args.val_csv, read_csv(args.val_csv),
             args.video_dir_val)):
        lines, missing, skipped = build_list(csv_path, rows, class_to_label,
                                             args.layout, video_dir, excluded)
        out = osp.join(args.out, f'kinetics400_{split}_list_videos.txt')
        with open(out, 'w', encoding='utf-8') as f:
            f.writelines(lines)
        print(f'{out}: {len(lines)} of {len(rows)} clips '
              f'({missing} not on disk, {skipped} excluded)')
    with open(osp.join(args.out, 'label_map_k400.txt'), 'w') as f:
        f.writelines(f'{name}\n' for name in classes)
    print(f'{len(classes)} classes -> '
          f'{osp.join(args.out, "label_map_k400.txt")}')


if __name__ == '__main__':
    main()
