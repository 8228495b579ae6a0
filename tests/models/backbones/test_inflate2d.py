"""pretrained2d from torchvision / timm ResNet checkpoints (.pth and
.safetensors) into A2ResNet3d: the inflated weights are the 2D ones spread
over time, and a file that is not such a checkpoint is refused with its
name and keys before any weight changes."""
import pytest
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from safetensors.torch import save_file

import a2mm  # noqa: F401  (registers A2ResNet3d)
from a2mm.models.backbones.a2_stages import a2_blocks_of
from a2mm.models.backbones.inflate2d import inflate_2d_weights
from a2mm.utils.checkpoint.weights_file import is_safetensors, read_state_dict

# a ResNet-50 layout (bottlenecks) at a sixteenth of the width, 2 blocks a
# stage, as in test_a2_resnet3d.py
STAGES, BASE = (2, 2, 2, 2), 4


class Bottleneck2d(nn.Module):
    """torchvision's / timm's Bottleneck, by its attribute names."""

    def __init__(self, inplanes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = None
        if stride != 1 or inplanes != planes * 4:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes * 4, 1, stride, bias=False),
                nn.BatchNorm2d(planes * 4))


class ResNet2d(nn.Module):
    """torchvision's / timm's ResNet layout: conv1, bn1, layer1-4, fc."""

    def __init__(self, stages=STAGES, base: int = BASE) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, base, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(base)
        inplanes = base
        for i, blocks in enumerate(stages):
            planes = base * 2**i
            layer = []
            for j in range(blocks):
                layer.append(Bottleneck2d(inplanes, planes,
                                          2 if i and not j else 1))
                inplanes = planes * 4
            setattr(self, f'layer{i + 1}', nn.Sequential(*layer))
        self.fc = nn.Linear(inplanes, 1000)


def resnet2d_state(seed: int = 0, timm_style: bool = False):
    """A 2D ResNet's state dict with random weights and BN statistics;
    timm's hub files carry no ``num_batches_tracked``."""
    torch.manual_seed(seed)
    net = ResNet2d()
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0, 0.1)
                module.running_mean.normal_(0, 0.1)
                module.running_var.uniform_(0.5, 1.5)
                module.num_batches_tracked.fill_(7)
    state = net.state_dict()
    if timm_style:
        state = {k: v for k, v in state.items()
                 if not k.endswith('num_batches_tracked')}
    return state


def to_3d(key: str) -> str:
    """The A2ResNet3d key of a torchvision key (MMAction2's mapping)."""
    parts = key.split('.')
    if parts[0] in ('conv1', 'bn1'):
        return f'conv1.{"conv" if parts[0] == "conv1" else "bn"}.{parts[1]}'
    layer, block, module = parts[:3]
    if module == 'downsample':
        kind = 'conv' if parts[3] == '0' else 'bn'
        return f'{layer}.{block}.downsample.{kind}.{parts[4]}'
    kind = 'conv' if module.startswith('conv') else 'bn'
    return f'{layer}.{block}.conv{module[-1]}.{kind}.{parts[3]}'


def build(path: str, **kwargs) -> nn.Module:
    cfg = dict(type='A2ResNet3d', depth=50, stage_blocks=STAGES,
               base_channels=BASE, pretrained=path, pretrained2d=True,
               a2=(0, 1, (0, 1), 0))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def assert_inflated(model: nn.Module, state) -> None:
    own = model.state_dict()
    checked = 0
    for key, value in state.items():
        if key.startswith('fc.'):
            continue
        got = own[to_3d(key)]
        if value.dim() == 4:  # (O, I, kh, kw) -> (O, I, kt, kh, kw) / kt
            kt = got.shape[2]
            for t in range(kt):
                torch.testing.assert_close(got[:, :, t], value / kt)
            torch.testing.assert_close(got.sum(2), value)
        else:
            torch.testing.assert_close(got, value, rtol=0, atol=0)
        checked += 1
    # every conv/BN tensor of the 2D file was checked against the 3D net
    assert checked == len([k for k in state if not k.startswith('fc.')])


@pytest.mark.parametrize('fmt', ['torchvision_pth', 'timm_safetensors',
                                 'wrapped_pth_tar'])
def test_inflates_torchvision_and_timm_checkpoints(tmp_path, fmt):
    state = resnet2d_state(timm_style=fmt == 'timm_safetensors')
    if fmt == 'torchvision_pth':
        path = str(tmp_path / 'resnet50-0676ba61.pth')
        torch.save(state, path)
    elif fmt == 'timm_safetensors':
        path = str(tmp_path / 'model.safetensors')
        save_file(state, path)
        assert is_safetensors(path)
    else:  # a timm training checkpoint of a DataParallel model
        path = str(tmp_path / 'model_best.pth.tar')
        torch.save(dict(epoch=3, state_dict={f'module.{k}': v
                                             for k, v in state.items()}),
                   path)
    model = build(path)
    model.init_weights()
    assert_inflated(model, state)
    for block in a2_blocks_of(model):  # the A² blocks start as identity
        assert not block.out_proj_weight.any()
        assert not block.out_proj_bias.any()


def test_the_log_names_what_was_not_used(tmp_path):
    path = str(tmp_path / 'r50.safetensors')
    save_file(resnet2d_state(), path)
    model = build(path)
    records = []

    class Logger:
        def info(self, msg):
            records.append(msg)

    unused = inflate_2d_weights(model, path, Logger())
    assert sorted(unused) == ['fc.bias', 'fc.weight']
    assert f'2D checkpoint {path}' in records[0]
    assert f'not used: {", ".join(unused)}' in records[0]


def _vit_like():
    return {'cls_token': torch.zeros(1, 1, 8),
            'patch_embed.proj.weight': torch.zeros(8, 3, 16, 16),
            'blocks.0.attn.qkv.weight': torch.zeros(24, 8),
            'head.weight': torch.zeros(1000, 8)}


def _narrower():
    torch.manual_seed(0)
    return ResNet2d(base=8).state_dict()


def _deeper():
    torch.manual_seed(0)
    return ResNet2d(stages=(3, 4, 6, 3)).state_dict()


def _resnet3d():
    model = build(None)
    return model.state_dict()


@pytest.mark.parametrize('make,match', [
    (_vit_like, r'(?s)\d+ of \d+ expected keys are missing: conv1.weight, '
     r'bn1.weight.*the file has 4 keys: blocks.0.attn.qkv.weight, '
     r'cls_token, head.weight, patch_embed.proj.weight'),
    # a deeper ResNet has every key of this one at the same shapes
    (_deeper, r'120 keys of ResNet layers that the model does not have '
     r'\(another depth\?\): layer1.2.bn1.bias'),
    (_narrower, r'keys have another shape \(key: expected vs in the file\): '
     r'conv1.weight: \(4, 3, 7, 7\) vs \(8, 3, 7, 7\)'),
    (_resnet3d, r'(?s)missing: conv1.weight.*looks like a 3D \(MMAction2\) '
     r'checkpoint: load it with pretrained2d=False'),
])
def test_other_checkpoints_are_refused_with_file_and_keys(tmp_path, make,
                                                          match):
    path = str(tmp_path / 'other.safetensors')
    save_file({k: v.contiguous() for k, v in make().items()}, path)
    model = build(path)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=match) as error:
        model.init_weights()
    assert f'{path} is not a torchvision/timm 2D ResNet checkpoint that ' \
        'fits A2ResNet3d(depth=50, base_channels=4)' in str(error.value)
    # nothing was copied before the error
    torch.testing.assert_close(model.state_dict(), before, rtol=0, atol=0)


def test_unreadable_files_name_the_file(tmp_path):
    junk = tmp_path / 'resnet50.pth'
    junk.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ValueError, match=f'{junk}: neither a PyTorch '
                       r'checkpoint \(.pth\) nor a safetensors file'):
        read_state_dict(str(junk))
    broken = tmp_path / 'resnet50.safetensors'
    save_file({'conv1.weight': torch.zeros(4, 3, 7, 7)}, str(broken))
    broken.write_bytes(broken.read_bytes()[:-10])  # cut off the data
    with pytest.raises(ValueError, match=f'{broken}: broken safetensors'):
        read_state_dict(str(broken))
    with pytest.raises(FileNotFoundError, match='nope.safetensors'):
        read_state_dict(str(tmp_path / 'nope.safetensors'))
    listed = tmp_path / 'list.pth'
    torch.save([1, 2, 3], str(listed))
    with pytest.raises(ValueError, match='holds a list, not a checkpoint'):
        read_state_dict(str(listed))
