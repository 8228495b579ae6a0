"""A2Inserted: A² blocks put into registered MMAction2 backbones by name,
with channels found automatically (SlowFast both pathways, TSM, X3D, C3D)."""
import copy

import pytest
import torch
from mmaction.registry import MODELS

import a2mm  # noqa: F401
from a2mm.models.backbones.insertion import (UnknownPositionError,
                                             find_output_shapes)

SLOWFAST = dict(
    type='ResNet3dSlowFast',
    pretrained=None,
    slow_pathway=dict(
        type='resnet3d',
        depth=50,
        pretrained=None,
        lateral=True,
        base_channels=16,
        conv1_kernel=(1, 7, 7),
        conv1_stride_t=1,
        pool1_stride_t=1,
        inflate=(0, 0, 1, 1)),
    fast_pathway=dict(
        type='resnet3d',
        depth=50,
        pretrained=None,
        lateral=False,
        base_channels=2,
        conv1_kernel=(5, 7, 7),
        conv1_stride_t=1,
        pool1_stride_t=1))
# pretrained2d=False: ResNetTSM.init_weights otherwise loads `pretrained`,
# even when it is None
TSM = dict(type='ResNetTSM', depth=50, num_segments=4, pretrained2d=False)
X3D = dict(type='X3D', gamma_w=1, gamma_b=2.25, gamma_d=1)
C3D = dict(type='C3D')

# (backbone, positions, expected channels, tiny input)
CASES = {
    'slowfast': (SLOWFAST, ['slow_path.layer3.1', 'fast_path.layer3.1'],
                 [256, 32], (1, 3, 8, 32, 32)),
    'tsm': (TSM, ['layer2.1', 'layer3.0'], [512, 1024], (4, 3, 32, 32)),
    'x3d': (X3D, ['layer2.0', 'layer3'], [48, 96], (1, 3, 4, 32, 32)),
    'c3d': (C3D, ['conv3b', 'conv5a'], [256, 512], (1, 3, 16, 112, 112)),
}


def wrap(backbone, positions, **kwargs):
    return MODELS.build(
        dict(type='A2Inserted', backbone=backbone, positions=positions,
             **kwargs))


def outputs(model, x):
    out = model(x)
    return list(out) if isinstance(out, (tuple, list)) else [out]


def perturb(model):
    torch.manual_seed(1)
    with torch.no_grad():
        for p in model.a2_blocks.parameters():
            p.normal_(0, 0.5)


@pytest.mark.parametrize('case', sorted(CASES))
def test_insert_into_backbone(case):
    backbone, positions, channels, shape = CASES[case]
    torch.manual_seed(0)
    model = wrap(backbone, positions)
    assert [b.in_channels for b in model.a2_blocks.values()] == channels
    assert list(model.a2_blocks) == [p.replace('.', '-') for p in positions]
    # host keys unchanged under 'backbone.', so the host's checkpoints load
    host = MODELS.build(backbone)
    assert set(model.backbone.state_dict()) == set(host.state_dict())

    perturb(model)
    model.init_weights()  # back to identity
    host.load_state_dict(model.backbone.state_dict())
    model.eval(), host.eval()
    x = torch.randn(shape)
    with torch.no_grad():
        expected = outputs(host, x)
        for ours, theirs in zip(outputs(model, x), expected):
            torch.testing.assert_close(ours, theirs, rtol=0, atol=0)
        # every inserted block runs and changes what comes after it
        calls = []
        for block in model.a2_blocks.values():
            block.register_forward_hook(lambda *a: calls.append(1))
        perturb(model)
        changed = [
            not torch.allclose(ours, theirs, atol=1e-5)
            for ours, theirs in zip(outputs(model, x), expected)
        ]
    assert len(calls) == len(positions)
    assert all(changed)  # for SlowFast: both pathways' outputs


def test_both_slowfast_pathways_get_gradients():
    model = wrap(SLOWFAST, CASES['slowfast'][1])
    model.init_weights()
    slow, fast = model(torch.randn(2, 3, 8, 32, 32))
    (slow.square().mean() + fast.square().mean()).backward()
    for key, block in model.a2_blocks.items():
        assert any(p.grad is not None and p.grad.abs().sum() > 0
                   for p in block.parameters()), key


def test_identity_after_init_with_norm():
    """With a norm layer after the output projection, the A² blocks are
    identity after the wrapper's init_weights too."""
    torch.manual_seed(0)
    model = wrap(X3D, ['layer2.0'], a2_cfg=dict(norm_cfg=dict(type='BN3d')))
    model.init_weights()
    host = MODELS.build(X3D)
    host.load_state_dict(model.backbone.state_dict())
    model.eval(), host.eval()
    x = torch.randn(1, 3, 4, 32, 32)
    torch.testing.assert_close(model(x), host(x), rtol=0, atol=0)


def test_unknown_position_error_names_it_and_lists_valid_ones():
    with pytest.raises(UnknownPositionError) as info:
        wrap(SLOWFAST, ['slow_path.layer3.1', 'slow_path.layer9.0'])
    message = str(info.value)
    assert "no sub-module named 'slow_path.layer9.0'" in message
    assert 'did you mean' in message
    assert 'slow_path.layer3.0' in message  # a valid position is listed
    assert "'slow_path.layer3.1'" not in message.splitlines()[0]


def test_position_not_on_forward_path():
    backbone = dict(type='ResNet3d', depth=18, pretrained=None,
                    with_pool2=False)
    with pytest.raises(ValueError, match="'pool2' exists but did not run"):
        wrap(backbone, ['pool2'])


@pytest.mark.parametrize('positions,error', [('layer1', TypeError),
                                             ([], ValueError),
                                             (['layer1', 'layer1'],
                                              ValueError)])
def test_bad_positions(positions, error):
    with pytest.raises(error):
        wrap(dict(type='ResNet3d', depth=18, pretrained=None), positions)


def test_dry_run_touches_no_real_tensor():
    host = MODELS.build(dict(type='ResNet3d', depth=18, pretrained=None))
    before = copy.deepcopy(host.state_dict())
    shapes = find_output_shapes(host, ['layer2'], (2, 3, 8, 64, 64))
    assert tuple(shapes['layer2']) == (2, 128, 4, 8, 8)  # pool2 halves T
    for key, value in host.state_dict().items():
        torch.testing.assert_close(value, before[key], rtol=0, atol=0)


def test_attribute_passthrough_and_deepcopy():
    model = wrap(TSM, ['layer3.0'])
    assert model.num_segments == 4  # read by Recognizer2D
    with pytest.raises(AttributeError):
        model.no_such_attribute
    twin = copy.deepcopy(model)
    perturb(twin)  # the copy's hooks must call the copy's blocks
    model.eval(), twin.eval()
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        assert not torch.allclose(twin(x), model(x), atol=1e-5)


def test_hooks_survive_tracing():
    """torch.jit.trace (used by ONNX export and MMEngine's FLOP count) runs
    the A² blocks."""
    model = wrap(dict(type='ResNet3d', depth=18, pretrained=None),
                 ['layer2.1', 'layer3.1'])
    model.eval()
    perturb(model)
    x = torch.randn(1, 3, 4, 32, 32)
    with torch.no_grad():
        traced = torch.jit.trace(model, x)
        torch.testing.assert_close(traced(x), model(x))
        host = MODELS.build(dict(type='ResNet3d', depth=18, pretrained=None))
        host.load_state_dict(model.backbone.state_dict())
        host.eval()  # (ResNet3d.train returns None: no chaining)
        assert not torch.allclose(traced(x), host(x), atol=1e-5)
