"""A tiny A² recognizer and the files its tests need: a generated video, a
label map and an MMEngine-format checkpoint.

Importing this module registers ``TinyA2Backbone3d`` in MMAction2's MODELS;
``tests/data/configs/tiny_a2_recognizer.py`` imports it through
``custom_imports``, so tools run in a subprocess find it too (with the
repository root on ``PYTHONPATH``).
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from a2mm.models.blocks.a2_block import A2Block

CONFIG = osp.join(osp.dirname(__file__), 'configs', 'tiny_a2_recognizer.py')
NUM_CLASSES = 5


@MODELS.register_module(force=True)
class TinyA2Backbone3d(BaseModule):
    """Two strided 3x3x3 conv layers, each followed by an A² block.

    ``(B, 3, T, H, W) -> (B, 16, T/2, H/4, W/4)``.

    Args:
        a2_cfg: extra ``A2Block`` arguments (e.g. ``zero_init=False``).
    """

    def __init__(self, a2_cfg: Optional[Dict] = None) -> None:
        super().__init__()
        a2_cfg = dict(a2_cfg or {})
        self.conv1 = nn.Sequential(
            nn.Conv3d(3, 8, 3, stride=(1, 2, 2), padding=1, bias=False),
            nn.BatchNorm3d(8), nn.ReLU(inplace=True))
        self.a2_1 = A2Block(8, **a2_cfg)
        self.conv2 = nn.Sequential(
            nn.Conv3d(8, 16, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm3d(16), nn.ReLU(inplace=True))
        self.a2_2 = A2Block(16, **a2_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a2_2(self.conv2(self.a2_1(self.conv1(x))))


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


def make_label_map(path: str, num_classes: int = NUM_CLASSES) -> List[str]:
    """Write ``class_0 ... class_{k-1}``, one per line; return them."""
    labels = [f'class_{i}' for i in range(num_classes)]
    with open(path, 'w') as f:
        f.write('\n'.join(labels) + '\n')
    return labels


def save_checkpoint(model: nn.Module, path: str) -> str:
    """Save ``model``'s weights as MMEngine does: ``{'state_dict', 'meta'}``."""
    torch.save({'state_dict': model.state_dict(),
                'meta': {'epoch': 1, 'iter': 1}}, path)
    return path


def fix_head_scores(model: nn.Module, bias: Sequence[float]) -> None:
    """Make the head's scores independent of the input: fc weight 0 and the
    given bias, so the softmax of ``bias`` is the model's prediction."""
    with torch.no_grad():
        model.cls_head.fc_cls.weight.zero_()
        model.cls_head.fc_cls.bias.copy_(torch.tensor(bias))


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
