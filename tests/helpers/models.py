"""Checkpoints and heads with known scores for the tests of the tiny A²
recognizer (``tests/data/configs/tiny_a2_recognizer.py``)."""
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
