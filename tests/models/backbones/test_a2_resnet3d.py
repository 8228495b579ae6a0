"""A2ResNet3d: placement flags, identity at init (random, inflated 2D
ImageNet weights), loading its own checkpoints with a report."""
import logging
from typing import Dict

import pytest
import torch
from mmaction.models.backbones.resnet3d import ResNet3d
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule

import a2mm  # noqa: F401  (registers A2ResNet3d)
from a2mm.models.backbones.a2_stages import a2_blocks_of, expand_a2_flags
from a2mm.models.blocks import A2Block
from a2mm.utils.checkpoint import STRIP_BACKBONE, load_weights

# A small ResNet-50-style layout: bottlenecks, 2 blocks per stage.
SMALL = dict(depth=50, stage_blocks=(2, 2, 2, 2), base_channels=16)
CLIP = (1, 3, 4, 32, 32)  # (B, C, T, H, W)


def build(**kwargs) -> torch.nn.Module:
    cfg = dict(type='A2ResNet3d', pretrained=None)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def perturb(blocks) -> None:
    """Give A² blocks non-zero weights so that they change their input."""
    torch.manual_seed(1)
    with torch.no_grad():
        for block in blocks:
            for p in block.parameters():
                p.normal_(0, 0.5)


def torchvision_resnet_state_dict(model: ResNet3d) -> Dict[str, torch.Tensor]:
    """A random 2D state dict in torchvision's ResNet naming (conv1, bn1,
    layerX.Y.convN, layerX.Y.bnN, layerX.Y.downsample.{0,1}, fc) with the
    2D shapes of ``model``'s convolutions."""
    gen = torch.Generator().manual_seed(0)
    state = {}
    for name, module in model.named_modules():
        if not isinstance(module, ConvModule) or 'a2_block' in name:
            continue
        if 'downsample' in name:
            conv_name, bn_name = name + '.0', name + '.1'
        else:
            conv_name, bn_name = name, name.replace('conv', 'bn')
        shape = module.conv.weight.shape
        state[conv_name + '.weight'] = torch.randn(
            shape[:2] + shape[3:], generator=gen) * 0.1
        channels = shape[0]
        state[bn_name + '.weight'] = torch.rand(channels, generator=gen) + .5
        state[bn_name + '.bias'] = torch.randn(channels, generator=gen) * .1
        state[bn_name + '.running_mean'] = torch.randn(
            channels, generator=gen) * .1
        state[bn_name + '.running_var'] = torch.rand(
            channels, generator=gen) + .5
        state[bn_name + '.num_batches_tracked'] = torch.tensor(100)
    state['fc.weight'] = torch.randn(1000, model.feat_dim, generator=gen)
    state['fc.bias'] = torch.zeros(1000)
    return state


@pytest.mark.parametrize('a2,expected', [
    (0, 0),
    (1, 8),
    (((0, 0), (0, 1), (1, 1), 0), 3),
    ((0, (1, 0), 0, 1), 3),
])
def test_a2_flags_place_blocks(a2, expected):
    model = build(a2=a2, **SMALL)
    flags = expand_a2_flags(a2, SMALL['stage_blocks'])
    blocks = a2_blocks_of(model)
    assert len(blocks) == expected == sum(map(sum, flags))
    for stage, stage_flags in enumerate(flags):
        layer = getattr(model, f'layer{stage + 1}')
        for res_block, flag in zip(layer, stage_flags):
            assert (res_block.a2_block is not None) == flag
            if flag:  # C = expansion 4 x base 16 x 2**stage
                assert res_block.a2_block.in_channels == 64 * 2**stage


def test_named_placement_matches_non_local_i3d():
    model = build(depth=50, a2='res34_5')
    names = [n for n, m in model.named_modules() if isinstance(m, A2Block)]
    assert names == [
        'layer2.1.a2_block', 'layer2.3.a2_block', 'layer3.1.a2_block',
        'layer3.3.a2_block', 'layer3.5.a2_block'
    ]
    assert [b.in_channels for b in a2_blocks_of(model)] == [512] * 2 + [1024
                                                                       ] * 3


def test_a2_cfg_is_forwarded():
    model = build(
        a2=(0, 0, (1, 0), 0),
        a2_cfg=dict(descriptor_channels=8, num_descriptors=4),
        **SMALL)
    (block, ) = a2_blocks_of(model)
    assert (block.descriptor_channels, block.num_descriptors) == (8, 4)


@pytest.mark.parametrize('a2,match', [
    ((0, 0, 0), 'one entry per stage'),
    ((0, 0, (1, 0, 1), 0), r'stage 2 \(layer3\) needs one flag per block'),
    ((0, 0, (2, 0), 0), 'must be 0 or 1'),
    ('nowhere', "unknown a2 placement 'nowhere'"),
])
def test_bad_a2_flags_raise(a2, match):
    with pytest.raises(ValueError, match=match):
        build(a2=a2, **SMALL)


def test_a2_cfg_in_channels_rejected():
    with pytest.raises(ValueError, match='in_channels'):
        build(a2=1, a2_cfg=dict(in_channels=3), **SMALL)


@pytest.mark.parametrize('a2_cfg', [None, dict(norm_cfg=dict(type='BN3d'))])
def test_identity_after_random_init(a2_cfg):
    """ResNet3d's init resets every BN to weight 1; the A² blocks (also one
    with a BN after its output projection) must be zeroed again after it."""
    torch.manual_seed(0)
    plain = MODELS.build(dict(type='ResNet3d', pretrained=None, **SMALL))
    plain.init_weights()
    model = build(a2=1, a2_cfg=a2_cfg, **SMALL)
    perturb(a2_blocks_of(model))  # init_weights must undo this
    model.init_weights()
    result = model.load_state_dict(plain.state_dict(), strict=False)
    assert not result.unexpected_keys
    assert all('a2_block' in k for k in result.missing_keys)
    plain.eval(), model.eval()
    x = torch.randn(CLIP)
    torch.testing.assert_close(model(x), plain(x), rtol=0, atol=0)
    # ... and the blocks do run: non-zero weights change the output.
    perturb(a2_blocks_of(model))
    assert not torch.allclose(model(x), plain(x), atol=1e-4)


def test_identity_after_inflating_2d_imagenet_weights(tmp_path):
    torch.manual_seed(0)
    plain = MODELS.build(
        dict(type='ResNet3d', pretrained=None, pretrained2d=True, **SMALL))
    path = str(tmp_path / 'resnet_torchvision.pth')
    state_2d = torchvision_resnet_state_dict(plain)
    torch.save(state_2d, path)
    plain.init_weights(pretrained=path)
    model = build(
        a2=1,
        a2_cfg=dict(norm_cfg=dict(type='BN3d')),
        pretrained=path,
        pretrained2d=True,
        **SMALL)
    model.init_weights()
    # the 2D weights are really inflated into the A² network
    # (inflation divides by the temporal kernel size, 3 here)
    inflated = model.layer1[0].conv1.conv.weight
    assert inflated.shape[2] == 3
    torch.testing.assert_close(inflated.sum(2),
                               state_2d['layer1.0.conv1.weight'])
    plain.eval(), model.eval()
    x = torch.randn(CLIP)
    torch.testing.assert_close(model(x), plain(x), rtol=0, atol=0)


class RecordingLogger:
    """Stands in for MMLogger; keeps what was logged."""

    def __init__(self) -> None:
        self.records = []

    def info(self, msg: str) -> None:
        self.records.append((logging.INFO, msg))

    def warning(self, msg: str) -> None:
        self.records.append((logging.WARNING, msg))


def test_loads_own_checkpoint_with_report(tmp_path):
    torch.manual_seed(0)
    source = build(a2=(0, 1, 1, 0), **SMALL)
    perturb(a2_blocks_of(source))
    # a recognizer-style checkpoint: 'state_dict' with 'backbone.' keys
    path = str(tmp_path / 'a2_resnet3d.pth')
    torch.save(
        dict(state_dict={
            f'backbone.{k}': v
            for k, v in source.state_dict().items()
        }), path)

    target = build(a2=(0, (1, 0), (0, 1), (1, 0)), **SMALL)
    logger = RecordingLogger()
    report = load_weights(target, path, policy='warn',
                          revise_keys=STRIP_BACKBONE, logger=logger)
    # the A² block the checkpoint lacks entirely is new, not missing
    assert report.new_blocks == [('layer4.0.a2_block', True)]
    assert report.missing == []
    assert {k.rsplit('.a2_block', 1)[0]
            for k in report.unexpected} == {'layer2.1', 'layer3.0'}
    assert report.mismatched == []
    ((level, message), ) = logger.records
    assert level == logging.WARNING
    new_part, unexpected_part = message.split('in the checkpoint but')
    assert 'new A² block(s) (initialised as identity)' in new_part
    assert 'layer4.0.a2_block' in new_part
    assert 'layer2.1.a2_block.' in unexpected_part
    assert 'backbone.' not in message  # the prefix was stripped
    # shared weights, A² included, are the checkpoint's
    torch.testing.assert_close(target.layer2[0].a2_block.state_dict(),
                               source.layer2[0].a2_block.state_dict())
    torch.testing.assert_close(target.layer4[1].conv3.conv.weight,
                               source.layer4[1].conv3.conv.weight)


def test_init_weights_from_own_checkpoint_keeps_a2_weights(tmp_path):
    torch.manual_seed(0)
    source = build(a2=(0, 1, 1, 0), **SMALL)
    perturb(a2_blocks_of(source))
    path = str(tmp_path / 'a2_resnet3d.pth')
    torch.save(source.state_dict(), path)
    target = build(
        a2=(0, 1, 1, 0), pretrained=path, pretrained2d=False, **SMALL)
    target.init_weights()
    source.eval(), target.eval()
    x = torch.randn(CLIP)
    torch.testing.assert_close(target(x), source(x))


def test_wrong_shape_is_reported_not_raised(tmp_path):
    source = build(
        a2=(0, 0, (1, 0), 0),
        a2_cfg=dict(descriptor_channels=8, num_descriptors=8),
        **SMALL)
    path = str(tmp_path / 'ckpt.pth')
    torch.save(source.state_dict(), path)
    target = build(a2=(0, 0, (1, 0), 0), **SMALL)
    logger = RecordingLogger()
    report = load_weights(target, path, policy='warn',
                          revise_keys=STRIP_BACKBONE, logger=logger)
    assert any(key.startswith('layer3.0.a2_block.')
               for key, _, _ in report.mismatched)
    assert 'different shape' in logger.records[0][1]


def test_trains_a2_parameters():
    model = build(a2=(0, 0, (1, 0), 0), **SMALL)
    model.init_weights()
    model(torch.randn(2, 3, 4, 32, 32)).square().mean().backward()
    (block, ) = a2_blocks_of(model)
    grads = [p.grad for p in block.parameters()]
    assert all(g is not None for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_cuda_amp_step_matches_fp32(dtype):
    """A mixed-precision step on the GPU, the forward under autocast as
    MMEngine's AmpOptimWrapper runs it: features and A² gradients close to
    the float32 step. BN uses running statistics (eval mode) so that the
    batch statistics of a random deep network do not amplify rounding; the
    loss is a plain sum, whose gradients stay inside float16's range here
    (a GradScaler's job in real training)."""
    torch.manual_seed(0)
    model = build(a2=(0, (1, 0), (0, 1), 0), **SMALL).cuda()
    model.init_weights()
    perturb(a2_blocks_of(model))
    model.eval()
    x = torch.randn(2, 3, 4, 64, 64, device='cuda')
    results = []
    for amp in (False, True):
        model.zero_grad(set_to_none=True)
        with torch.autocast('cuda', dtype=dtype, enabled=amp):
            feat = model(x)
        feat.float().sum().backward()
        results.append((feat.detach().float(),
                        [p.grad.clone() for b in a2_blocks_of(model)
                         for p in b.parameters()]))
    (ref, ref_grads), (got, grads) = results
    assert (got - ref).norm() / ref.norm() < 3e-2
    assert len(grads) == 10
    for g, r in zip(grads, ref_grads):
        assert g.dtype == torch.float32 and torch.isfinite(g).all()
        cosine = torch.nn.functional.cosine_similarity(
            g.flatten(), r.flatten(), dim=0)
        assert cosine > 0.95, cosine


@pytest.mark.parametrize('impl', ['chunked', 'autograd'])
def test_compiled_training_step_matches_eager(impl):
    """A tiny A² 3D ResNet in training mode under torch.compile (dynamo +
    AOTAutograd, one graph): the eager output and every gradient."""
    from tests.helpers.models import check_compiled_matches_eager
    model = build(a2=(1, 1), a2_cfg=dict(impl=impl, zero_init=False),
                  depth=18, num_stages=2, base_channels=8, out_indices=(1, ),
                  spatial_strides=(1, 2), temporal_strides=(1, 1),
                  dilations=(1, 1), inflate=(1, 1))
    model.init_weights()
    model.train()
    assert len(a2_blocks_of(model)) == 4
    check_compiled_matches_eager(model, torch.randn(2, 3, 4, 16, 16),
                                 'aot_eager', 1e-4)
