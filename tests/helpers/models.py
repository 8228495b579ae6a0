"""Models in the tests: checkpoints and heads with known scores for the tiny
A² recognizer (``tests/data/configs/tiny_a2_recognizer.py``), a trained
plain I3D for the A² model of ``configs/a2_r50_kinetics_from_i3d.py``, and
the check that a compiled module trains as its eager self."""
import os.path as osp
from typing import List, Sequence

import torch
import torch.nn as nn


def save_checkpoint(model: nn.Module, path: str) -> str:
    """Save ``model``'s weights as MMEngine does:
    ``{'state_dict': ..., 'meta': ...}``."""
    torch.save({'state_dict': model.state_dict(),
                'meta': {'epoch': 1, 'iter': 1}}, path)
    return path


#: the plain I3D and the A² model fine-tuned from it
#: (``configs/a2_r50_kinetics_from_i3d.py``)
PLAIN_I3D = osp.join(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))), 'configs', 'i3d_r50_kinetics.py')
A2_FROM_I3D = osp.join(osp.dirname(PLAIN_I3D), 'a2_r50_kinetics_from_i3d.py')
#: both at the ResNet-50 layout (so a2='res34_5' places its 5 blocks) and an
#: eighth of the width, with no ImageNet file
SMALL_R50 = {'model.backbone.base_channels': 8,
             'model.backbone.pretrained': None,
             'model.cls_head.in_channels': 256,
             'model.cls_head.num_classes': 5}
#: the A² blocks of A2_FROM_I3D, which a plain I3D checkpoint lacks
A2_FROM_I3D_BLOCKS = [
    'backbone.layer2.1.a2_block', 'backbone.layer2.3.a2_block',
    'backbone.layer3.1.a2_block', 'backbone.layer3.3.a2_block',
    'backbone.layer3.5.a2_block'
]


def trained_plain_i3d(path: str) -> nn.Module:
    """A plain I3D recognizer (``PLAIN_I3D`` at ``SMALL_R50``) with random
    weights and BN statistics, saved to ``path`` as MMEngine does; returns
    the model."""
    from a2mm.apis import init_model
    torch.manual_seed(0)
    model = init_model(PLAIN_I3D, cfg_options=SMALL_R50)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith(('running_mean', 'bias')):
                tensor.normal_(0, 0.1)
            elif name.endswith(('running_var', 'bn.weight')):
                tensor.uniform_(0.5, 1.5)
    save_checkpoint(model, path)
    return model


def random_clip(seed: int = 1) -> torch.Tensor:
    """Two random 8x32x32 clips, ``(N, views, C, T, H, W)``."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn((2, 1, 3, 8, 32, 32), generator=gen)


def scores_of(model: nn.Module, clip: torch.Tensor) -> torch.Tensor:
    """The recognizer's class scores for ``clip``, without gradients."""
    with torch.no_grad():
        return model(clip, mode='tensor')


def distinct_bias(num_classes: int, seed: int = 0) -> List[float]:
    """Distinct head biases in a shuffled order (0.3 apart)."""
    gen = torch.Generator().manual_seed(seed)
    return (torch.randperm(num_classes, generator=gen).float() * 0.3).tolist()


def fix_head_scores(model: nn.Module, bias: Sequence[float]) -> None:
    """Make the head's scores independent of the input: fc weight 0 and the
    given bias, so the softmax of ``bias`` is the model's prediction."""
    with torch.no_grad():
        model.cls_head.fc_cls.weight.zero_()
        model.cls_head.fc_cls.bias.copy_(torch.tensor(bias))


def labelled_sample(label: int):
    """An ``ActionDataSample`` with its true class set, on MMAction2 1.1.0
    (``set_gt_labels``) and 1.2.0 (``set_gt_label``)."""
    from mmaction.structures import ActionDataSample
    sample = ActionDataSample()
    if hasattr(sample, 'set_gt_label'):
        return sample.set_gt_label(label)
    return sample.set_gt_labels(label)


def grads_of_step(module: torch.nn.Module, x: torch.Tensor):
    """Output, dL/dx and dL/dparams of one training step with a loss that
    weights every output element differently."""
    x = x.detach().requires_grad_()
    out = module(x)
    weight = torch.linspace(-1, 1, out.numel()).reshape(out.shape)
    (out * weight).sum().backward()
    grads = {'x': x.grad}
    for name, p in module.named_parameters():
        grads[name.replace('_orig_mod.', '')] = p.grad
        p.grad = None
    return out.detach(), grads


def check_compiled_matches_eager(module, x, backend, atol):
    """torch.compile (whole graph, no break) gives the eager training
    step's output and gradients; the chunked pass runs only eagerly."""
    out, grads = grads_of_step(module, x)
    compiled = torch.compile(module, backend=backend, fullgraph=True)
    out_c, grads_c = grads_of_step(compiled, x)
    torch.testing.assert_close(out_c, out, atol=atol, rtol=1e-4)
    assert grads_c.keys() == grads.keys()
    # float noise scales with the largest gradient: a bias before a
    # train-mode BN has a zero gradient, computed as noise of that size
    scale = max(float(g.abs().max()) for g in grads.values())
    assert scale > 0
    for key in grads:
        torch.testing.assert_close(grads_c[key], grads[key],
                                   atol=atol * scale, rtol=1e-4, msg=key)
