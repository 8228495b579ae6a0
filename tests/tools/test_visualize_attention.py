"""tools/analysis/visualize_attention.py on a small A² recognizer writes a
PNG grid of the documented size."""
import inspect

import cv2
import pytest

from a2mm.apis import extract_attention, init_model, render_attention_grid
from tests.helpers.configs import CONFIG
from tests.helpers.data import write_gradient_video
from tests.helpers.models import save_checkpoint
from tests.helpers.tools import load_tool


@pytest.fixture(scope='module')
def inputs(tmp_path_factory):
    """A video, a checkpoint, and the shapes of the model's maps on it."""
    root = tmp_path_factory.mktemp('attn')
    model = init_model(CONFIG)
    video = write_gradient_video(str(root / 'clip.mp4'))
    frames, maps = extract_attention(model, video)
    return dict(
        root=root,
        video=video,
        ckpt=save_checkpoint(model, str(root / 'tiny.pth')),
        frame_size=frames.shape[1:3],
        # name -> (n, time steps)
        shapes={k: tuple(v.gather.shape[:2])
                for k, v in maps.items()})


def _layout_defaults():
    params = inspect.signature(render_attention_grid).parameters
    return params['label_width'].default, params['title_height'].default


def test_png_grid_size(inputs, capsys):
    tool = load_tool('tools/analysis/visualize_attention.py')
    out = str(inputs['root'] / 'grid.png')
    # Cells wide enough that the columns, not a block title, set the width.
    cell, k, max_frames = 64, 3, 4
    tool.main([
        CONFIG, inputs['ckpt'], inputs['video'], '--out', out,
        '--descriptors',
        str(k), '--cell-size',
        str(cell), '--max-frames',
        str(max_frames)
    ])
    image = cv2.imread(out)
    assert image is not None
    label_w, title_h = _layout_defaults()
    h, w = inputs['frame_size']
    cell_w = round(cell * w / h)
    # Per block: a title strip, a frame row and two rows per descriptor;
    # columns: the block's time steps, at most max_frames.
    height = sum(title_h + (1 + 2 * min(k, n)) * cell
                 for n, _ in inputs['shapes'].values())
    columns = max(min(t, max_frames) for _, t in inputs['shapes'].values())
    assert image.shape == (height, label_w + columns * cell_w, 3)
    assert ', '.join(inputs['shapes']) in capsys.readouterr().out


def test_chosen_block_and_descriptor_ids(inputs):
    tool = load_tool('tools/analysis/visualize_attention.py')
    out = str(inputs['root'] / 'one_block.png')
    name = list(inputs['shapes'])[-1]
    tool.main([
        CONFIG, inputs['ckpt'], inputs['video'], '--out', out, '--blocks',
        name, '--descriptor-ids', '0', '1', '--cell-size', '32',
        '--max-frames', '1'
    ])
    label_w, title_h = _layout_defaults()
    h, w = inputs['frame_size']
    image = cv2.imread(out)
    assert image.shape[0] == title_h + 5 * 32
    # One 32-pixel column: the grid is widened to fit the block's title.
    assert image.shape[1] > label_w + round(32 * w / h)
    with pytest.raises(KeyError, match=list(inputs['shapes'])[0]):
        tool.main([
            CONFIG, inputs['ckpt'], inputs['video'], '--blocks', 'a2_x'
        ])


def test_list_blocks(inputs, capsys):
    tool = load_tool('tools/analysis/visualize_attention.py')
    tool.main([CONFIG, inputs['ckpt'], inputs['video'], '--list-blocks'])
    printed = capsys.readouterr().out.splitlines()
    assert [line.split(':')[0] for line in printed[-len(inputs['shapes']):]
            ] == list(inputs['shapes'])
    n = list(inputs['shapes'].values())[0][0]
    assert f'num_descriptors={n}' in printed[-len(inputs['shapes'])]
