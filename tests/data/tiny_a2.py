"""Files the tool tests need beside the tiny A² recognizer config
(``tests/data/configs/tiny_a2_recognizer.py``): a generated video, a label
map, an MMEngine-format checkpoint, and a loader for the ``tools/`` scripts.
"""
import os.path as osp
from typing import List, Sequence

import cv2
import numpy as np
import torch
import torch.nn as nn

CONFIG = osp.join(osp.dirname(__file__), 'configs', 'tiny_a2_recognizer.py')


def config_value(key: str):
    """A value of the test config by dotted key, e.g.
    ``'model.cls_head.num_classes'``."""
    from mmengine.config import Config
    value = Config.fromfile(CONFIG)
    for part in key.split('.'):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def make_video(path: str,
               num_frames: int = 16,
               size: Sequence[int] = (64, 48),
               fps: float = 8.0) -> str:
    """Write an mp4 of a bright square moving over a gradient;
    ``size = (width, height)``."""
    width, height = size
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (width, height))
    assert writer.isOpened(), f'cannot write {path}'
    ramp = np.linspace(0, 160, width, dtype=np.uint8)
    for t in range(num_frames):
        frame = np.zeros((height, width, 3), np.uint8)
        frame[..., 0] = ramp[None, :]
        frame[..., 1] = 60
        x0 = (t * 3) % (width - 16)
        frame[height // 3:height // 3 + 16, x0:x0 + 16] = (40, 220, 250)
        writer.write(frame)
    writer.release()
    return path


def make_label_map(path: str, num_classes: int) -> List[str]:
    """Write ``class_0 ... class_{k-1}``, one per line; return them."""
    labels = [f'class_{i}' for i in range(num_classes)]
    with open(path, 'w') as f:
        f.write('\n'.join(labels) + '\n')
    return labels


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


def load_tool(relpath: str):
    """Import a script under ``tools/`` (not a package) as a module."""
    import importlib.util
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    path = osp.join(root, relpath)
    name = 'tool_' + osp.splitext(relpath)[0].replace('/', '_')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
