"""Layout adapters (a2mm.models.backbones.layouts): an A² block always runs
over channels. 2D backbones get the temporal (clip) form by default; Swin's
channels-last 5D, VideoMAE's tokens (B, L, C) and MViT's (tokens, thw)
tuples are adapted; an output with no channel axis is refused."""
import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS

import a2mm  # noqa: F401
from a2mm.models.backbones.layouts import (Tokens, detect_layout,
                                           layer_widths)
from a2mm.models.blocks import A2Block

R18_2D = dict(type='ResNet', depth=18, pretrained=None)
SWIN = dict(type='SwinTransformer3D', pretrained=None, pretrained2d=False,
            patch_size=(2, 4, 4),
            window_size=(2, 2, 2), arch=dict(embed_dims=8,
                                             depths=[1, 1, 2, 1],
                                             num_heads=[1, 1, 1, 1]))
VIT = dict(type='VisionTransformer', img_size=32, patch_size=16,
           num_frames=4, tubelet_size=2, embed_dims=16, depth=2,
           num_heads=2)
MVIT = dict(type='MViT', spatial_size=32, temporal_size=4,
            arch=dict(embed_dims=8, num_layers=2, num_heads=1,
                      downscale_indices=[1]))


def wrap(backbone, **kwargs):
    return MODELS.build(dict(type='A2Inserted', backbone=backbone, **kwargs))


def perturb(model):
    torch.manual_seed(1)
    with torch.no_grad():
        for p in model.a2_blocks.parameters():
            p.normal_(0, 0.5)


def first(out):
    """The first tensor of a backbone's output (MViT: a tuple of
    [patch tokens, class token] lists)."""
    while isinstance(out, (tuple, list)):
        out = out[0]
    return out


@pytest.mark.parametrize('layout, reaches', [('clip', True),
                                             ('frames', False)])
def test_temporal_form_relates_frames_per_frame_form_does_not(
        layout, reaches):
    kwargs = dict(num_segments=4) if layout == 'clip' else {}
    model = wrap(R18_2D, stages=dict(res4=[1]), layout=layout, **kwargs)
    perturb(model)
    model.eval()  # BN in train mode would mix the frames of the batch
    x = torch.randn(8, 3, 32, 32)  # 2 clips of 4 frames
    y = x.clone()
    y[0] += 1  # change frame 0 of clip 0
    with torch.no_grad():
        a, b = model(x), model(y)
    frame_changed = [not torch.allclose(a[i], b[i]) for i in range(8)]
    assert frame_changed[0]
    assert all(changed is reaches for changed in frame_changed[1:4])
    assert not any(frame_changed[4:])  # never across clips


def test_2d_families_default_to_the_temporal_form():
    tsm = dict(type='ResNetTSM', depth=50, num_segments=4,
               pretrained2d=False)
    model = wrap(tsm, stages=dict(res4=[1]))
    block = model.a2_blocks['layer3-1']
    assert type(block).__name__ == 'FramesAsClip'
    assert block.num_segments == 4 and block.in_channels == 1024
    with pytest.raises(ValueError, match='needs num_segments'):
        wrap(R18_2D, stages=dict(res4=[1]))  # TSN's ResNet: no segments
    with pytest.raises(ValueError, match='do not split into clips of 4'):
        wrap(R18_2D, stages=dict(res4=[1]), num_segments=4)(
            torch.randn(6, 3, 32, 32))


def check_adapted(backbone, channels, shape):
    """A² blocks over ``channels``, identity at init, working when not."""
    torch.manual_seed(0)
    model = wrap(backbone, stages='default')
    blocks = [m for m in model.a2_blocks.modules()
              if isinstance(m, A2Block)]
    assert blocks and {b.in_channels for b in blocks} == channels
    model.init_weights()
    host = MODELS.build(backbone)
    host.load_state_dict(model.backbone.state_dict())
    model.eval(), host.eval()
    x = torch.randn(shape)
    with torch.no_grad():
        expected = first(host(x))
        torch.testing.assert_close(first(model(x)), expected, rtol=0,
                                   atol=0)
        perturb(model)
        assert not torch.allclose(first(model(x)), expected, atol=1e-4)
    return model


def test_channels_last_5d_is_permuted():
    # Swin blocks give (B, D, H, W, C): the block takes C (32 at stage 3),
    # never D
    model = check_adapted(SWIN, {32}, (1, 3, 4, 32, 32))
    assert type(model.a2_blocks['layers-2-blocks-0']).__name__ == \
        'ChannelsLast'
    with pytest.raises(ValueError, match="gives a 'channels_last' layout"):
        wrap(SWIN, stages='default', layout='channels')


def test_tokens_become_1d_over_the_sequence():
    # VideoMAE's blocks give (B, L, C): C = 16, not L
    model = check_adapted(VIT, {16}, (1, 3, 4, 32, 32))
    assert type(model.a2_blocks['blocks-0']).__name__ == 'Tokens'


def test_tuples_with_their_grid_are_adapted():
    # MViT's blocks give (tokens (B, 1 + T*H*W, C), thw)
    model = check_adapted(MVIT, {8}, (1, 3, 4, 32, 32))
    assert type(model.a2_blocks['blocks-0']).__name__ == 'TokensWithShape'


def test_tokens_skip_class_tokens_and_join_frames():
    torch.manual_seed(0)
    block = A2Block(8)
    with torch.no_grad():
        for p in block.parameters():
            p.normal_(0, 0.5)
    adapter = Tokens(block, cls_tokens=1, frames=2)
    x = torch.randn(4, 1 + 5, 8)  # 2 clips x 2 frames, class + 5 tokens
    out = adapter(x)
    torch.testing.assert_close(out[:, 0], x[:, 0], rtol=0, atol=0)
    clip = x[:, 1:].reshape(2, 2 * 5, 8).transpose(1, 2)  # (B, C, F*L)
    expected = block(clip).transpose(1, 2).reshape(4, 5, 8)
    torch.testing.assert_close(out[:, 1:], expected)
    seq_first = Tokens(block, cls_tokens=1, frames=2, seq_first=True)
    torch.testing.assert_close(seq_first(x.transpose(0, 1)),
                               out.transpose(0, 1))


def test_no_channel_axis_is_refused():
    layer = nn.Linear(12, 24)
    widths = layer_widths(layer)
    assert widths == {24}
    assert detect_layout(torch.empty(2, 24, 5), widths, 'p') == \
        ('channels', 24)
    assert detect_layout(torch.empty(2, 5, 24), widths, 'p') == \
        ('tokens', 24)
    with pytest.raises(ValueError, match=r"'p' returns a tensor of shape "
                       r'\(2, 5, 7\): no axis of it is the channels'):
        detect_layout(torch.empty(2, 5, 7), widths, 'p')
    with pytest.raises(ValueError, match='a tuple of'):
        detect_layout((torch.empty(2, 5, 7), 'x'), widths, 'p')


def test_class_token_tokens_must_be_declared():

    class WithClassToken(nn.Module):

        def __init__(self):
            super().__init__()
            self.cls_token = nn.Parameter(torch.zeros(1, 1, 8))
            self.embed = nn.Conv3d(3, 8, 4, 4)
            self.mix = nn.Linear(8, 8)

        def forward(self, x):
            tokens = self.embed(x).flatten(2).transpose(1, 2)
            tokens = torch.cat((self.cls_token.expand(len(x), -1, -1),
                                tokens), 1)
            return self.mix(tokens)

    MODELS.register_module('_WithClassToken', module=WithClassToken,
                           force=True)
    with pytest.raises(ValueError, match="declare layout=dict"):
        wrap(dict(type='_WithClassToken'), positions=['mix'])
    model = wrap(dict(type='_WithClassToken'), positions=['mix'],
                 layout=dict(type='tokens', cls_tokens=1))
    assert model.a2_blocks['mix'].cls_tokens == 1
