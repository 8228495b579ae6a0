"""Placement by stage (a2mm.models.backbones.placement): stage names and
block indices resolved per backbone family; a wrong stage or index is an
error naming the valid ones."""
import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS

import a2mm  # noqa: F401
from a2mm.models.backbones import A2_PLACEMENTS
from a2mm.models.backbones.placement import (PRESETS, family_of,
                                             resolve_stages)

R3D = dict(type='ResNet3d', depth=50, pretrained=None, base_channels=4)
R18_2D = dict(type='ResNet', depth=18, pretrained=None)
SLOWFAST = dict(
    type='ResNet3dSlowFast', pretrained=None,
    slow_pathway=dict(type='resnet3d', depth=50, pretrained=None,
                      lateral=True, base_channels=8),
    fast_pathway=dict(type='resnet3d', depth=50, pretrained=None,
                      lateral=False, base_channels=1))


def positions(backbone_cfg, stages):
    return resolve_stages(MODELS.build(backbone_cfg), stages)


def test_preset_is_a2resnet3d_placement():
    # the same 'res34_5' as A2ResNet3d's a2= flags
    flags = A2_PLACEMENTS['res34_5']
    from_flags = {f'res{i + 2}': tuple(j for j, f in enumerate(s) if f)
                  for i, s in enumerate(flags) if any(s)}
    assert from_flags == PRESETS['res34_5']
    assert positions(R3D, 'res34_5') == [
        'layer2.1', 'layer2.3', 'layer3.1', 'layer3.3', 'layer3.5']
    assert positions(R3D, 'default') == positions(R3D, 'res34_5')


def test_default_follows_the_depth():
    # ResNet-18: 2 blocks per stage -> block 1 of res3 and of res4
    assert positions(R18_2D, 'default') == ['layer2.1', 'layer3.1']


def test_slowfast_pathways():
    both = positions(SLOWFAST, dict(res4=[1]))
    assert both == ['slow_path.layer3.1', 'fast_path.layer3.1']
    assert positions(SLOWFAST, dict(fast_res3=[0, 2])) == [
        'fast_path.layer2.0', 'fast_path.layer2.2']


def test_c3d_stage_names():
    assert positions(dict(type='C3D'), dict(conv3=[1], conv5=[0])) == [
        'conv3b', 'conv5a']
    assert positions(dict(type='C3D'), 'default') == ['conv3b', 'conv4b']


def test_x3d_and_tsm_families():
    x3d = MODELS.build(dict(type='X3D', gamma_w=1, gamma_b=2.25, gamma_d=1))
    assert family_of(x3d).name == 'X3D'
    tsm = MODELS.build(dict(type='ResNetTSM', depth=50, num_segments=4,
                            pretrained2d=False))
    assert family_of(tsm).layout == 'clip'  # 2D: temporal by default
    assert resolve_stages(tsm, dict(res5=[2])) == ['layer4.2']


@pytest.mark.parametrize('stages, message', [
    (dict(res6=[0]), r"no stage 'res6'; stages: res2 \(blocks 0-2\), "
     r'res3 \(blocks 0-3\), res4 \(blocks 0-5\), res5 \(blocks 0-2\)'),
    (dict(res3=[4]), r"stage 'res3' has blocks 0-3, got index 4"),
    (dict(res3=[-1]), 'got index -1'),
    ('res99', r"unknown placement 'res99'; named: \['default', 'res34_5'\]"),
    ({}, 'non-empty dict'),
])
def test_wrong_stage_or_index_names_the_valid_ones(stages, message):
    with pytest.raises(ValueError, match=message):
        positions(R3D, stages)


def test_unknown_family_and_both_arguments():
    class Toy(nn.Module):

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv3d(3, 8, 1)

        def forward(self, x):
            return self.conv(x)

    with pytest.raises(ValueError, match='does not know Toy.*positions='):
        resolve_stages(Toy(), 'default')
    with pytest.raises(ValueError, match='exactly one of positions'):
        MODELS.build(dict(type='A2Inserted', backbone=R3D,
                          positions=['layer2.1'], stages='default'))
    with pytest.raises(ValueError, match='exactly one of positions'):
        MODELS.build(dict(type='A2Inserted', backbone=R3D))


def test_inserted_by_stage_is_identity_at_init():
    torch.manual_seed(0)
    model = MODELS.build(dict(type='A2Inserted', backbone=R3D,
                              stages=dict(res3=[1, 3], res4=[5])))
    assert list(model.a2_blocks) == ['layer2-1', 'layer2-3', 'layer3-5']
    assert [b.in_channels for b in model.a2_blocks.values()] == [32, 32, 64]
    model.init_weights()
    host = MODELS.build(R3D)
    host.load_state_dict(model.backbone.state_dict())
    model.eval(), host.eval()
    x = torch.randn(1, 3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x), host(x), rtol=0, atol=0)
