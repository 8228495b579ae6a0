"""BlockInserted: a registered block (here GCNet's ContextBlock3d) run on
the output of named sub-modules of an MMAction2 backbone."""
import pytest
import torch
from mmaction.registry import MODELS

import a2mm  # noqa: F401
from a2mm.models.backbones.insertion import UnknownPositionError
from a2mm.models.blocks import ContextBlock3d

R3D = dict(type='ResNet3d', depth=18, base_channels=8, num_stages=3,
           out_indices=(2, ), spatial_strides=(1, 2, 2),
           temporal_strides=(1, 1, 1), dilations=(1, 1, 1), pretrained=None,
           pretrained2d=False, inflate=(0, 0, 0))


def wrap(positions, **block):
    return MODELS.build(dict(
        type='BlockInserted', backbone=R3D, positions=positions,
        block=dict(dict(type='ContextBlock3d', ratio=0.25), **block)))


def test_channels_found_and_identity_at_init():
    model = wrap(['layer1.1', 'layer2.1'])
    model.init_weights()
    assert [b.in_channels for b in model.blocks.values()] == [8, 16]
    assert all(isinstance(b, ContextBlock3d) for b in model.blocks.values())
    x = torch.randn(1, 3, 4, 32, 32)
    plain = MODELS.build(R3D)
    plain.load_state_dict({k[len('backbone.'):]: v
                           for k, v in model.state_dict().items()
                           if k.startswith('backbone.')})
    model.eval(), plain.eval()
    torch.testing.assert_close(model(x), plain(x))


def test_block_runs_on_the_named_output():
    model = wrap(['layer2.1']).eval()
    seen = []
    block = model.blocks['layer2-1']
    block.register_forward_hook(lambda m, a, out: seen.append(a[0].shape))
    torch.nn.init.normal_(block.channel_add_conv[-1].weight)
    x = torch.randn(1, 3, 4, 32, 32)
    before = model(x)
    model.blocks.pop('layer2-1')  # the hook keeps the block: still runs
    assert seen == [torch.Size([1, 16, 2, 4, 4])]
    assert before.shape == (1, 32, 2, 2, 2)
    torch.nn.init.zeros_(block.channel_add_conv[-1].weight)
    torch.nn.init.zeros_(block.channel_add_conv[-1].bias)
    assert not torch.allclose(before, model(x))


def test_errors():
    with pytest.raises(UnknownPositionError, match='layer9'):
        wrap(['layer9.1'])
    with pytest.raises(ValueError, match='in_channels'):
        wrap(['layer2.1'], in_channels=4)
    with pytest.raises(ValueError, match="'type'"):
        MODELS.build(dict(type='BlockInserted', backbone=R3D,
                          positions=['layer2.1'], block=dict(ratio=0.25)))
