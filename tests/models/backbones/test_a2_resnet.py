"""A2ResNet (2D): named placement, identity at init, torchvision weights."""
import pytest
import torch
from mmaction.registry import MODELS

import a2mm  # noqa: F401
from a2mm.models.backbones.a2_stages import a2_blocks_of

SMALL = dict(
    depth=50,
    num_stages=3,
    out_indices=(2, ),
    strides=(1, 2, 2),
    dilations=(1, 1, 1))
IMAGES = (2, 3, 32, 32)


def perturb(blocks) -> None:
    torch.manual_seed(1)
    with torch.no_grad():
        for block in blocks:
            for p in block.parameters():
                p.normal_(0, 0.5)


def test_named_placement_on_resnet50():
    model = MODELS.build(dict(type='A2ResNet', depth=50, a2='res34_5'))
    names = [n for n, m in model.named_modules() if n.endswith('a2_block')]
    assert names == [
        'layer2.1.a2_block', 'layer2.3.a2_block', 'layer3.1.a2_block',
        'layer3.3.a2_block', 'layer3.5.a2_block'
    ]
    assert [b.in_channels for b in model.a2_blocks] == [512] * 2 + [1024] * 3


def test_named_placement_needs_matching_depth():
    with pytest.raises(ValueError, match='needs one flag per block'):
        MODELS.build(dict(type='A2ResNet', depth=101, a2='res34_5'))


@pytest.mark.parametrize('a2_cfg', [None, dict(norm_cfg=dict(type='BN2d'))])
def test_identity_after_init(a2_cfg):
    torch.manual_seed(0)
    plain = MODELS.build(dict(type='ResNet', **SMALL))
    plain.init_weights()
    model = MODELS.build(
        dict(type='A2ResNet', a2=(0, 1, (1, 0, 0, 0, 0, 1)), a2_cfg=a2_cfg,
             **SMALL))
    perturb(a2_blocks_of(model))
    model.init_weights()
    result = model.load_state_dict(plain.state_dict(), strict=False)
    assert not result.unexpected_keys
    plain.eval(), model.eval()
    x = torch.randn(IMAGES)
    torch.testing.assert_close(model(x), plain(x), rtol=0, atol=0)
    perturb(a2_blocks_of(model))
    assert not torch.allclose(model(x), plain(x), atol=1e-4)


def test_torchvision_pretrained_keeps_identity(tmp_path):
    """``pretrained`` in torchvision format: loaded into the ResNet part; A²
    blocks (not in it) stay identity, so outputs equal the plain ResNet's."""
    torch.manual_seed(0)
    source = MODELS.build(dict(type='ResNet', **SMALL))
    # MMAction2 ResNet keys -> torchvision keys (conv1.conv -> conv1,
    # conv1.bn -> bn1, downsample.conv -> downsample.0, ...)
    tv = {}
    for key, value in source.state_dict().items():
        key = key.replace('downsample.conv', 'downsample.0').replace(
            'downsample.bn', 'downsample.1')
        for i in (1, 2, 3):
            key = key.replace(f'conv{i}.conv', f'conv{i}').replace(
                f'conv{i}.bn', f'bn{i}')
        tv[key] = value + 0.01 * torch.randn_like(value.float()).to(
            value.dtype) if value.is_floating_point() else value
    path = str(tmp_path / 'r50_tv.pth')
    torch.save(tv, path)
    plain = MODELS.build(dict(type='ResNet', pretrained=path, **SMALL))
    plain.init_weights()
    model = MODELS.build(
        dict(type='A2ResNet', a2=1, pretrained=path, **SMALL))
    model.init_weights()
    torch.testing.assert_close(model.layer1[0].conv1.conv.weight,
                               tv['layer1.0.conv1.weight'])
    plain.eval(), model.eval()
    x = torch.randn(IMAGES)
    torch.testing.assert_close(model(x), plain(x), rtol=0, atol=0)
