"""tools/data/make_long_range_dataset.py: the first digit in one corner of
the first frames, the second in the opposite corner of the last frames,
nothing in between, labels (a + b) mod K, class-balanced lists."""
import os.path as osp

import numpy as np
import pytest

from tests.helpers.tools import load_tool

tool = load_tool('tools/data/make_long_range_dataset.py')


def ink_boxes(frames, background):
    """Per frame, the bounding box (y0, x0, y1, x1) of the pixels that
    differ from ``background`` (frames (T, H, W, 3)), or None."""
    boxes = []
    for frame in frames.astype(int):
        ys, xs = np.nonzero(np.abs(frame - background).max(axis=-1) > 8)
        boxes.append(None if len(ys) == 0 else
                     (ys.min(), xs.min(), ys.max(), xs.max()))
    return boxes


@pytest.mark.parametrize('seed', range(4))
def test_digits_far_apart_in_space_and_time(seed):
    rng = np.random.default_rng(seed)
    # a flat grey background video: every frame of the window is 128 after
    # the half-contrast step, so any other pixel is ink
    background = np.full((20, 2 * tool.SIZE, 2 * tool.SIZE, 3), 128,
                         np.uint8)
    digit = np.full((8, 8), 16.0)
    frames = tool.render_clip(rng, (digit, digit), background)
    assert frames.shape == (tool.NUM_FRAMES, tool.SIZE, tool.SIZE, 3)
    boxes = ink_boxes(frames, 128)
    show, gap = tool.SHOW, tool.NUM_FRAMES - 2 * tool.SHOW
    assert all(b is not None for b in boxes[:show] + boxes[-show:])
    assert boxes[show:show + gap] == [None] * gap
    first, second = boxes[0], boxes[-1]
    assert len(set(boxes[:show])) == 1 and len(set(boxes[-show:])) == 1
    half = tool.SIZE // 2
    for box in (first, second):  # each digit inside one quadrant
        assert (box[0] < half) == (box[2] < half)
        assert (box[1] < half) == (box[3] < half)
    # opposite corners: different quadrant in both y and x
    assert (first[0] < half) != (second[0] < half)
    assert (first[1] < half) != (second[1] < half)


def test_labels_are_the_sum_mod_k(tmp_path, monkeypatch):
    drawn = []
    render = tool.render_clip

    def spy(rng, digits, background):
        drawn.append(digits)
        return render(rng, digits, background)

    monkeypatch.setattr(tool, 'render_clip', spy)
    # the "scans": digit d is an 8x8 image filled with d
    images = np.repeat(np.arange(3, dtype=float), 4)[:, None, None] * \
        np.ones((1, 8, 8))
    labels = np.repeat(np.arange(3), 4)
    background = np.zeros((10, 64, 64, 3), np.uint8)
    ann = tool.make_split(str(tmp_path), 'train', num=9, num_digits=3,
                          images=images, labels=labels,
                          backgrounds=[background],
                          rng=np.random.default_rng(0))
    lines = [line.split() for line in open(ann)]
    assert [int(label) for _, label in lines] == [0, 1, 2] * 3
    for (name, label), (a, b) in zip(lines, drawn):
        assert (int(a[0, 0]) + int(b[0, 0])) % 3 == int(label)
        assert osp.getsize(tmp_path / 'videos' / 'train' / name) > 0


def test_bad_arguments():
    with pytest.raises(SystemExit):
        tool.parse_args(['--num-digits', '1'])
    with pytest.raises(SystemExit):
        tool.parse_args(['--num-train', '0'])
