"""``Float32ScoresHook``: the recognizer's head hands MMAction2 float32
scores under mixed precision.

Under autocast the head's ``fc_cls`` returns float16 or bfloat16 scores,
and MMAction2 1.1.0 calls ``.numpy()`` on them in two places, which fails
for bfloat16 (numpy has no such dtype: ``TypeError: Got unsupported
ScalarType BFloat16``):

* training, ``BaseHead.loss_by_feat`` (``mmaction/models/heads/base.py``,
  the ``top_k_accuracy(cls_scores.detach().cpu().numpy(), ...)`` of the
  logged ``top1_acc``; ``omni_head.py`` and ``rgbpose_head.py`` copy it);
* validation and testing, ``AccMetric.process``
  (``mmaction/evaluation/metrics/acc_metric.py``,
  ``pred[item_name] = score.cpu().numpy()``), on the scores that
  ``BaseHead.predict_by_feat`` / ``average_clip`` stored.

We found no upstream report. Rather than patch MMAction2, this hook adds a
forward hook to the model's ``cls_head`` for the duration of the run that
casts its float16/bfloat16 output to float32, so everything downstream (the
loss, the clip averaging, the metric, ``--dump``) sees float32; the layers
before it still run in the reduced dtype. It changes nothing outside
autocast (float32 scores pass through) and nothing in exported graphs (it
is installed by the runner only). Remove it when MMAction2 casts before
``.numpy()``.
"""
import logging
from typing import Any, Optional

import torch
import torch.nn as nn
from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from torch.utils.hooks import RemovableHandle

__all__ = ['Float32ScoresHook', 'to_float32']

_REDUCED = (torch.float16, torch.bfloat16)


def to_float32(output: Any) -> Any:
    """``output`` with its float16/bfloat16 tensors (also inside tuples and
    lists) cast to float32; anything else unchanged."""
    if isinstance(output, torch.Tensor):
        return output.float() if output.dtype in _REDUCED else output
    if isinstance(output, (tuple, list)):
        return type(output)(to_float32(x) for x in output)
    return output


@HOOKS.register_module()
class Float32ScoresHook(Hook):
    """Cast the head's reduced-precision scores to float32 (see the module
    docstring for the MMAction2 code this works around).

    Takes no arguments; ``tools/train.py --amp`` and ``tools/test.py --amp``
    add it, or add ``custom_hooks = [dict(type='Float32ScoresHook')]``.
    """

    priority = 'NORMAL'

    def __init__(self) -> None:
        self._handle: Optional[RemovableHandle] = None

    def before_run(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        head = getattr(model, 'cls_head', None)
        if not isinstance(head, nn.Module):
            print_log(
                f'Float32ScoresHook: {type(model).__name__} has no cls_head; '
                'its outputs are left in the autocast dtype',
                logger='current',
                level=logging.WARNING)
            return
        self._handle = head.register_forward_hook(
            lambda module, inputs, output: to_float32(output))

    def after_run(self, runner) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
