"""a2mm.apis attention maps: the maps are the block's own softmaxes, the
recorder hooks the right blocks without changing the output, and the grid
has the documented size."""
import inspect
import os.path as osp

import numpy as np
import pytest
import torch

from a2mm.apis import (AttentionMaps, AttentionRecorder, a2_attention_maps,
                       attention_grid_size, extract_attention,
                       find_a2_blocks, init_model, render_attention_grid,
                       select_descriptors)
from a2mm.models.blocks.a2_block import A2Block
from mmaction.registry import MODELS
from mmengine.config import Config

from tests.helpers.configs import config_value


@pytest.mark.parametrize('spatial', [(7, ), (5, 6), (3, 4, 5)])
def test_maps_rebuild_block_output(spatial):
    """With the maps, the block's equations give the block's output:
    Y = X + W_out (A softmax_N(theta)^T + b_phi) softmax_n(rho) + b_out."""
    torch.manual_seed(0)
    c, m, n = 12, 5, 3
    block = A2Block(c, m, n, zero_init=False).eval()
    x = torch.randn(2, c, *spatial)
    maps = a2_attention_maps(block, x)
    assert maps.gather.shape == maps.distribute.shape == (2, n, *spatial)
    gather = maps.gather.reshape(2, n, -1)  # (B, n, N)
    dist = maps.distribute.reshape(2, n, -1)  # (B, n, N)
    torch.testing.assert_close(gather.sum(-1), torch.ones(2, n))
    torch.testing.assert_close(dist.sum(1), torch.ones(2, gather.shape[-1]))
    x_cn = x.reshape(2, c, -1)
    a = block.weights().phi @ x_cn  # (B, m, N)
    desc = a @ gather.transpose(1, 2) + block.phi_bias[:, None]  # (B, m, n)
    z = desc @ dist  # (B, m, N)
    y = x_cn + block.out_proj_weight @ z + block.out_proj_bias[:, None]
    with torch.no_grad():
        torch.testing.assert_close(block(x).reshape(2, c, -1), y)


def test_softmax_axes_are_not_swapped():
    """Gather maps must not be normalised over descriptors nor the
    distribution over positions (the usual re-implementation slips)."""
    torch.manual_seed(1)
    block = A2Block(8, 4, 4, zero_init=False)
    maps = a2_attention_maps(block, torch.randn(1, 8, 3, 3))
    assert not torch.allclose(maps.gather.sum(1), torch.ones(1, 3, 3))
    assert not torch.allclose(maps.distribute.sum((2, 3)), torch.ones(1, 4))


def test_recorder_hooks_chosen_blocks_and_leaves_output_alone(tiny_config):
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(tiny_config).model.backbone)
    model.eval()  # (ResNet3d.train returns None: no chaining)
    names = list(find_a2_blocks(model))
    assert len(names) >= 2
    x = torch.randn(2, 3, 8, 32, 32)
    with torch.no_grad():
        ref = model(x)
        with AttentionRecorder(model, names[-1:]) as rec:
            out = model(x)
    torch.testing.assert_close(out, ref)
    assert list(rec.maps) == names[-1:]
    maps = rec.maps[names[-1]]
    n = model.get_submodule(names[-1]).num_descriptors
    assert maps.gather.dim() == 5 and maps.gather.shape[:2] == (2, n)
    # Hooks are removed on exit.
    rec.maps.clear()
    with torch.no_grad():
        model(x)
    assert rec.maps == {}
    with pytest.raises(KeyError, match=names[0]):
        AttentionRecorder(model, ['layer9.a2_block'])
    with pytest.raises(ValueError, match='no A2Block'):
        AttentionRecorder(torch.nn.Linear(2, 2))


def test_extract_attention_on_video(tiny_config, clip_video):
    video = clip_video
    model = init_model(tiny_config)
    frames, maps = extract_attention(model, video)
    # The test pipeline: clip_len frames, 32x32 centre crop.
    clip_len = config_value('test_pipeline.1.clip_len')
    assert frames.shape == (clip_len, 32, 32, 3) and frames.dtype == np.uint8
    blocks = find_a2_blocks(model)
    assert list(maps) == list(blocks)
    for name, block_maps in maps.items():
        n = blocks[name].num_descriptors
        steps = block_maps.gather.shape[1]
        assert block_maps.gather.dim() == 4  # (n, T', H', W')
        assert block_maps.gather.shape[0] == n and 1 <= steps <= clip_len
        assert block_maps.distribute.shape == block_maps.gather.shape
        torch.testing.assert_close(
            block_maps.gather.sum((1, 2, 3)), torch.ones(n))
    last = list(maps)[-1]
    only, = extract_attention(model, video, [last])[1].values()
    torch.testing.assert_close(only.gather, maps[last].gather)


def _maps(n, t=3, h=4, w=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    gather = torch.rand(n, t, h, w, generator=g)
    dist = torch.rand(n, t, h, w, generator=g)
    return AttentionMaps(gather / gather.sum((1, 2, 3), keepdim=True),
                         dist / dist.sum(0, keepdim=True))


def test_select_descriptors():
    maps = _maps(5)
    boost = torch.zeros(5, 1, 1, 1)
    boost[3], boost[1] = 2.0, 1.0
    maps = AttentionMaps(maps.gather, maps.distribute + boost)
    assert select_descriptors(maps, 2) == [3, 1]
    assert select_descriptors(maps, [4, 0]) == [4, 0]
    with pytest.raises(ValueError, match=r'n=5'):
        select_descriptors(maps, [5])


@pytest.mark.parametrize('k,max_frames', [(2, 8), (3, 2)])
def test_grid_size(k, max_frames):
    frames = np.zeros((6, 20, 30, 3), np.uint8)  # non-square frames
    maps = {'a': _maps(4, t=6), 'b': _maps(2, t=3)}
    cell = 48  # wide enough that the columns, not the titles, set the width
    grid = render_attention_grid(
        frames, maps, descriptors=k, max_frames=max_frames, cell_size=cell)
    defaults = inspect.signature(render_attention_grid).parameters
    cell_w = round(cell * 30 / 20)
    rows = [1 + 2 * min(k, 4), 1 + 2 * min(k, 2)]
    cols = min(6, max_frames)
    expected_w = defaults['label_width'].default + cols * cell_w
    expected_h = sum(defaults['title_height'].default + r * cell
                     for r in rows)
    assert grid.shape == (expected_h, expected_w, 3)
    assert attention_grid_size(rows, cols, (cell_w, cell),
                               defaults['label_width'].default,
                               defaults['title_height'].default) == (
                                   expected_w, expected_h)
    # The cells are drawn: the grid is not the blank background.
    assert (grid < 250).mean() > 0.5


def test_extract_attention_2d_model_stacks_frames(clip_video):
    """A frame-level (TSN-style) model: its 2D A² blocks see one frame per
    batch entry; the frames are laid out along time."""
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(
        osp.join(root, 'configs/_base_/models/tsn_a2_r50.py'))
    cfg.merge_from_dict(
        dict(
            model=dict(
                backbone=dict(depth=18, a2=((0, 0), (0, 1), (0, 0), (0, 0))),
                cls_head=dict(in_channels=512)),
            test_pipeline=[
                dict(type='DecordInit'),
                dict(type='SampleFrames', clip_len=1, frame_interval=1,
                     num_clips=3, test_mode=True),
                dict(type='DecordDecode'),
                dict(type='Resize', scale=(-1, 32)),
                dict(type='CenterCrop', crop_size=32),
                dict(type='FormatShape', input_format='NCHW'),
                dict(type='PackActionInputs')
            ]))
    model = init_model(cfg)
    frames, maps = extract_attention(model, clip_video)
    assert frames.shape == (3, 32, 32, 3)
    (name, block_maps), = maps.items()
    assert name == 'backbone.layer2.1.a2_block'
    # 128 channels -> n = 32; 3 frames of 4x4 positions at stride 8.
    assert block_maps.gather.shape == (32, 3, 4, 4)
    # Each frame is its own gather softmax in a 2D block.
    torch.testing.assert_close(
        block_maps.gather.sum((2, 3)), torch.ones(32, 3))


def test_narrow_grid_is_widened_to_fit_the_title():
    frames = np.full((2, 16, 16, 3), 40, np.uint8)
    name = 'backbone.layer3.1.a2_block'
    grid = render_attention_grid(
        frames, {name: _maps(4, t=2)}, descriptors=1, max_frames=1,
        cell_size=16)
    label_w = inspect.signature(
        render_attention_grid).parameters['label_width'].default
    assert grid.shape[1] > label_w + 16
    title_strip = grid[:grid.shape[0] - 3 * 16]
    # Text is drawn in the strip, and it ends before the right edge.
    assert (title_strip < 128).any()
    assert (title_strip[:, -4:] == 255).all()
