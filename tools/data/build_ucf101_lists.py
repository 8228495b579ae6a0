"""UCF-101's official split files -> MMAction2 annotation lists and label map.

Input (``--official-dir``, the unpacked ``UCF101TrainTestSplits-
RecognitionTask.zip``)::

    classInd.txt        "1 ApplyEyeMakeup" (1-based)
    trainlist0K.txt     "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1"
    testlist0K.txt      "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi"

Output (``--out``, default ``data/ucf101``; the names that
``configs/_base_/datasets/ucf101_video.py`` reads)::

    ucf101_train_split_K_videos.txt   "<class>/<file>.avi <label>" (0-based)
    ucf101_val_split_K_videos.txt
    label_map_ucf101.txt              one class name per line, label order

Test videos take the label of their class folder. Videos named in a
``check_videos.py`` report (``--exclude``) are left out and counted.

Usage::

    python tools/data/build_ucf101_lists.py --official-dir \
        data/ucf101/ucfTrainTestlist [--splits 1 2 3] [--exclude bad.txt]
"""
import argparse
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Set, Tuple

from a2mm.datasets.exclusions import read_exclusions


def read_class_index(path: str) -> List[str]:
    """Class names in label order from ``classInd.txt``.

    Raises:
        ValueError: a malformed line or indices that are not 1..N in order.
    """
    names = []
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2 or not fields[0].isdigit():
                raise ValueError(f'{path}, line {number}: expected '
                                 f'"<index> <class>", got {line.strip()!r}')
            if int(fields[0]) != len(names) + 1:
                raise ValueError(
                    f'{path}, line {number}: expected index '
                    f'{len(names) + 1}, got {fields[0]}')
            names.append(fields[1])
    return names


def read_split(path: str, class_to_label: Dict[str, int],
               excluded: Set[str]) -> Tuple[List[Tuple[str, int]], int]:
    """Videos of one official list, with 0-based labels.

    The label comes from the class folder of each path; where the line also
    gives a (1-based) label, the two must agree.

    Returns:
        ([(relative path, label)], number of excluded videos)

    Raises:
        ValueError: unknown class folder or a label that disagrees with it.
    """
    videos, skipped = [], 0
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            rel = fields[0].replace('\\', '/')
            folder = rel.split('/')[0]
            if folder not in class_to_label:
                raise ValueError(f'{path}, line {number}: class folder '
                                 f'{folder!r} is not in classInd.txt')
            label = class_to_label[folder]
            if len(fields) > 1 and int(fields[1]) - 1 != label:
                raise ValueError(
                    f'{path}, line {number}: label {fields[1]} disagrees '
                    f'with class {folder!r} (index {label + 1} in '
                    'classInd.txt)')
            if rel in excluded:
                skipped += 1
                continue
            videos.append((rel, label))
    return videos, skipped


def write_list(path: str, videos: Sequence[Tuple[str, int]]) -> None:
    with open(path, 'w', encoding='utf-8') as f:
        f.writelines(f'{rel} {label}\n' for rel, label in videos)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--official-dir', required=True,
                        help='folder with classInd.txt, trainlist0K.txt, '
                        'testlist0K.txt')
    parser.add_argument('--out', default='data/ucf101')
    parser.add_argument('--splits', type=int, nargs='+', default=[1, 2, 3],
                        choices=[1, 2, 3])
    parser.add_argument('--exclude',
                        help='report of check_videos.py: leave these out')
    args = parser.parse_args(argv)

    classes = read_class_index(osp.join(args.official_dir, 'classInd.txt'))
    class_to_label = {name: i for i, name in enumerate(classes)}
    excluded = read_exclusions(args.exclude)
    os.makedirs(args.out, exist_ok=True)
    for split in args.splits:
        for official, ours in (('trainlist', 'train'), ('testlist', 'val')):
            videos, skipped = read_split(
                osp.join(args.official_dir, f'{official}0{split}.txt'),
                class_to_label, excluded)
            out = osp.join(args.out, f'ucf101_{ours}_split_{split}_videos.txt')
            write_list(out, videos)
            print(f'{out}: {len(videos)} videos'
                  + (f' ({skipped} excluded)' if skipped else ''))
    with open(osp.join(args.out, 'label_map_ucf101.txt'), 'w') as f:
        f.writelines(f'{name}\n' for name in classes)
    print(f'{len(classes)} classes -> '
          f'{osp.join(args.out, "label_map_ucf101.txt")}')


if __name__ == '__main__':
    main()
