"""tools/analysis/visualize_attention.py on a tiny A² recognizer writes a PNG
grid of the documented size."""
import inspect

import cv2
import pytest

from a2mm.apis import init_model, render_attention_grid
from tests.data.tiny_a2 import (CONFIG, load_tool, make_video,
                                save_checkpoint)


@pytest.fixture(scope='module')
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp('attn')
    return dict(
        root=root,
        video=make_video(str(root / 'clip.mp4')),
        ckpt=save_checkpoint(init_model(CONFIG), str(root / 'tiny.pth')))


def _layout_defaults():
    params = inspect.signature(render_attention_grid).parameters
    return params['label_width'].default, params['title_height'].default


def test_png_grid_size(inputs, capsys):
    tool = load_tool('tools/analysis/visualize_attention.py')
    out = str(inputs['root'] / 'grid.png')
    cell = 40
    tool.main([
        CONFIG, inputs['ckpt'], inputs['video'], '--out', out,
        '--descriptors', '3', '--cell-size',
        str(cell)
    ])
    image = cv2.imread(out)
    assert image is not None
    label_w, title_h = _layout_defaults()
    # Tiny model: layer1.1's block has n=2 descriptors on 4 time steps,
    # layer2.0's and layer2.1's n=4 on 2 steps; frames are 32x32 (square
    # cells).
    rows = [1 + 2 * 2, 1 + 2 * 3, 1 + 2 * 3]
    assert image.shape == (sum(title_h + r * cell for r in rows),
                           label_w + 4 * cell, 3)
    assert ('backbone.layer1.1.a2_block, backbone.layer2.0.a2_block, '
            'backbone.layer2.1.a2_block') in capsys.readouterr().out


def test_chosen_blocks_and_descriptor_ids(inputs, capsys):
    tool = load_tool('tools/analysis/visualize_attention.py')
    out = str(inputs['root'] / 'one_block.png')
    tool.main([
        CONFIG, inputs['ckpt'], inputs['video'], '--out', out, '--blocks',
        'backbone.layer2.1.a2_block', '--descriptor-ids', '3', '--cell-size', '32',
        '--max-frames', '1'
    ])
    label_w, title_h = _layout_defaults()
    assert cv2.imread(out).shape == (title_h + 3 * 32, label_w + 32, 3)
    with pytest.raises(KeyError, match='backbone.layer1.1.a2_block'):
        tool.main([
            CONFIG, inputs['ckpt'], inputs['video'], '--blocks', 'a2_x'
        ])


def test_list_blocks(inputs, capsys):
    tool = load_tool('tools/analysis/visualize_attention.py')
    tool.main([CONFIG, inputs['ckpt'], inputs['video'], '--list-blocks'])
    out = capsys.readouterr().out
    assert 'backbone.layer1.1.a2_block: in_channels=8' in out
    assert 'backbone.layer2.1.a2_block: in_channels=16' in out
