"""``AmpValLoop`` / ``AmpTestLoop``: MMEngine's validation and test loops
in mixed precision of a chosen dtype.

MMEngine 0.10.7's ``ValLoop(fp16=True)`` / ``TestLoop(fp16=True)`` enter
``mmengine.runner.autocast(enabled=True)`` without a dtype, i.e. the
device's default: float16 on CUDA and bfloat16 on the CPU, with no way to
test in bfloat16 on a GPU (or in float16 on a CPU). These loops take
``dtype`` and autocast on the model's device in it; everything else is
MMEngine's loop. Remove them when MMEngine's loops take a dtype.

Config::

    test_cfg = dict(type='AmpTestLoop', dtype='bfloat16')
    custom_hooks = [dict(type='Float32ScoresHook')]  # MMAction2 + bfloat16
"""
from typing import Dict, List, Sequence, Union

import torch
from mmaction.registry import LOOPS
from mmengine.evaluator import Evaluator
from mmengine.logging import print_log
from mmengine.runner import TestLoop, ValLoop
from mmengine.runner.loops import _update_losses
from torch.utils.data import DataLoader

from a2mm.utils.amp import amp_autocast, resolve_amp_dtype

__all__ = ['AmpValLoop', 'AmpTestLoop']


class _AmpLoopMixin:
    """What :class:`AmpValLoop` and :class:`AmpTestLoop` add to MMEngine's
    ``ValLoop``/``TestLoop``: a ``dtype``, and a ``run_iter`` that runs the
    model step under :func:`~a2mm.utils.amp.amp_autocast` instead of
    MMEngine's ``autocast(enabled=fp16)``; the rest is MMEngine's.

    A subclass names its stage: ``stage`` (``'val'``/``'test'``: the hooks
    ``before_<stage>_iter``/``after_<stage>_iter``) and :meth:`step` (the
    model's ``val_step``/``test_step``, and the loss bookkeeping of
    MMEngine's loop).
    """

    stage: str

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 dtype: Union[None, str, torch.dtype] = None) -> None:
        super().__init__(runner, dataloader, evaluator, fp16=False)
        self.dtype = resolve_amp_dtype(dtype)
        name = 'the device default' if self.dtype is None else str(
            self.dtype).split('.')[-1]
        print_log(f'{type(self).__name__}: autocast in {name}',
                  logger='current')

    def step(self, data_batch: Sequence[dict]) -> list:
        """The model's step on one batch; its outputs (data samples)."""
        raise NotImplementedError

    @torch.no_grad()
    def run_iter(self, idx: int, data_batch: Sequence[dict]) -> None:
        """One mini-batch: MMEngine's ``run_iter`` with our autocast
        region."""
        self.runner.call_hook(
            f'before_{self.stage}_iter', batch_idx=idx, data_batch=data_batch)
        with amp_autocast(self.runner.model, self.dtype):
            outputs = self.step(data_batch)
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook(
            f'after_{self.stage}_iter',
            batch_idx=idx,
            data_batch=data_batch,
            outputs=outputs)


@LOOPS.register_module()
class AmpValLoop(_AmpLoopMixin, ValLoop):
    """``ValLoop`` under ``torch.autocast(dtype)``.

    Args:
        runner: the runner.
        dataloader (DataLoader | dict): the loader or its config.
        evaluator (Evaluator | dict | list): the metrics.
        dtype (str | torch.dtype, optional): ``'float16'``/``'fp16'`` or
            ``'bfloat16'``/``'bf16'``. None: the device's default (as
            MMEngine's ``fp16=True``). Default: None.
    """

    stage = 'val'

    def step(self, data_batch: Sequence[dict]) -> list:
        outputs = self.runner.model.val_step(data_batch)
        outputs, self.val_loss = _update_losses(outputs, self.val_loss)
        return outputs


@LOOPS.register_module()
class AmpTestLoop(_AmpLoopMixin, TestLoop):
    """``TestLoop`` under ``torch.autocast(dtype)``; arguments as
    :class:`AmpValLoop`."""

    stage = 'test'

    def step(self, data_batch: Sequence[dict]) -> list:
        outputs = self.runner.model.test_step(data_batch)
        outputs, self.test_loss = _update_losses(outputs, self.test_loss)
        return outputs
