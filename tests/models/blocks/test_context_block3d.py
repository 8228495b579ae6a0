"""ContextBlock3d: GCNet's context block over all T*H*W positions, checked
against the block's formula written out in 3D, built through the registry."""
import pytest
import torch
from mmaction.registry import MODELS
from mmengine.registry import MODELS as ROOT_MODELS

import a2mm  # noqa: F401
from a2mm.models.blocks import ContextBlock3d


def randomise(block: ContextBlock3d) -> None:
    """Random weights instead of the zero-init (LayerNorm left at 1, 0, so
    that the ReLU after it passes about half of the bottleneck)."""
    for p in block.parameters():
        torch.nn.init.normal_(p, std=0.5)
    block.channel_add_conv[1].reset_parameters()


def global_context_3d(block: ContextBlock3d, x: torch.Tensor) -> torch.Tensor:
    """GCNet (arXiv:1904.11492, Eq. 3) on (B, C, T, H, W), written out with
    the block's weights: softmax attention over all positions, bottleneck
    transform, broadcast add."""
    b, c = x.shape[:2]
    flat = x.flatten(2)  # (B, C, N)
    w_k = block.conv_mask.weight.view(1, c)  # (1, C)
    logits = torch.einsum('oc,bcn->bn', w_k, flat) + block.conv_mask.bias
    context = torch.einsum('bcn,bn->bc', flat, logits.softmax(dim=1))
    conv1, norm, _, conv2 = block.channel_add_conv
    hidden = context @ conv1.weight.flatten(1).T + conv1.bias  # (B, P)
    hidden = torch.nn.functional.layer_norm(
        hidden, hidden.shape[1:], norm.weight.flatten(), norm.bias.flatten())
    add = hidden.relu() @ conv2.weight.flatten(1).T + conv2.bias  # (B, C)
    return x + add.view(b, c, 1, 1, 1)


@pytest.mark.parametrize('shape', [(2, 16, 3, 4, 5), (1, 8, 1, 6, 6)])
def test_matches_3d_formula(shape):
    torch.manual_seed(0)
    block = ContextBlock3d(shape[1], ratio=0.25)
    randomise(block)
    x = torch.randn(shape)
    torch.testing.assert_close(block(x), global_context_3d(block, x))


def test_relates_far_positions():
    """The output at one corner changes when the opposite corner of
    another frame changes (what a 3x3 convolution cannot do)."""
    torch.manual_seed(0)
    block = ContextBlock3d(8, ratio=0.5)
    randomise(block)
    x = torch.randn(1, 8, 4, 6, 6)
    y = x.clone()
    # raise the attention logit of the far corner so that it dominates
    y[0, :, -1, -1, -1] += 3.0 * block.conv_mask.weight.flatten().sign()
    delta = (block(y) - block(x))[..., 0, 0, 0].abs().max()
    assert delta > 1e-3


def test_starts_as_identity_and_registered():
    x = torch.randn(2, 8, 2, 3, 3)
    for registry in (MODELS, ROOT_MODELS):
        block = registry.build(dict(type='ContextBlock3d', in_channels=8,
                                    ratio=0.25))
        assert isinstance(block, ContextBlock3d)
        torch.testing.assert_close(block(x), x)


@pytest.mark.parametrize('fusion_types', [('channel_add', ),
                                          ('channel_add', 'channel_mul')])
def test_zero_init_false_starts_away_from_identity(fusion_types):
    """zero_init=False (training from scratch): the last convolution of
    every transform keeps a default initialisation, so the block changes
    its input from the first step."""
    torch.manual_seed(0)
    block = ContextBlock3d(8, 0.25, fusion_types=fusion_types,
                           zero_init=False)
    for transform in (block.channel_add_conv, block.channel_mul_conv):
        if transform is not None:
            assert transform[-1].weight.abs().min() > 0
    x = torch.randn(2, 8, 2, 3, 3)
    assert (block(x) - x).abs().max() > 1e-3
    assert ContextBlock3d(8, 0.25, fusion_types=fusion_types).zero_init


@pytest.mark.parametrize('kwargs, match', [
    (dict(in_channels=8, ratio=0.05), 'bottleneck'),
    (dict(in_channels=0, ratio=0.25), 'in_channels'),
    (dict(in_channels=8, ratio=0.25, pooling_type='max'), 'pooling_type'),
    (dict(in_channels=8, ratio=0.25, fusion_types=('add', )), 'fusion'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ContextBlock3d(**kwargs)


def test_wrong_input_shape():
    with pytest.raises(ValueError, match=r'\(B, 8, T, H, W\)'):
        ContextBlock3d(8, ratio=0.25)(torch.randn(1, 4, 2, 3, 3))
