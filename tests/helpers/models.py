"""Models in the tests: checkpoints and heads with known scores for the tiny
A² recognizer (``tests/data/configs/tiny_a2_recognizer.py``), and the check
that a compiled module trains as its eager self."""
from typing import List, Sequence

import torch
import torch.nn as nn


def save_checkpoint(model: nn.Module, path: str) -> str:
    """Save ``model``'s weights as MMEngine does:
    ``{'state_dict': ..., 'meta': ...}``."""
    torch.save({'state_dict': model.state_dict(),
                'meta': {'epoch': 1, 'iter': 1}}, path)
    return path


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
