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

from .amp import amp_autocast, resolve_amp_dtype

__all__ = ['AmpValLoop', 'AmpTestLoop']


def log_amp_loop(loop) -> None:
    """Log which autocast dtype ``loop`` runs in."""
    name = 'the device default' if loop.dtype is None else str(
        loop.dtype).split('.')[-1]
    print_log(f'{type(loop).__name__}: autocast in {name}', logger='current')


@LOOPS.register_module()
class AmpValLoop(ValLoop):
    """``ValLoop`` under ``torch.autocast(dtype)``.

    Args:
        runner: the runner.
        dataloader (DataLoader | dict): the loader or its config.
        evaluator (Evaluator | dict | list): the metrics.
        dtype (str | torch.dtype, optional): ``'float16'``/``'fp16'`` or
            ``'bfloat16'``/``'bf16'``. None: the device's default (as
            MMEngine's ``fp16=True``). Default: None.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 dtype: Union[None, str, torch.dtype] = None) -> None:
        super().__init__(runner, dataloader, evaluator, fp16=False)
        self.dtype = resolve_amp_dtype(dtype)
        log_amp_loop(self)

    @torch.no_grad()
    def run_iter(self, idx: int, data_batch: Sequence[dict]) -> None:
        """One mini-batch: MMEngine's ``ValLoop.run_iter`` with our
        autocast region instead of its ``autocast(enabled=fp16)``."""
        self.runner.call_hook(
            'before_val_iter', batch_idx=idx, data_batch=data_batch)
        with amp_autocast(self.runner.model, self.dtype):
            outputs = self.runner.model.val_step(data_batch)
        outputs, self.val_loss = _update_losses(outputs, self.val_loss)
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook(
            'after_val_iter',
            batch_idx=idx,
            data_batch=data_batch,
            outputs=outputs)


@LOOPS.register_module()
class AmpTestLoop(TestLoop):
    """``TestLoop`` under ``torch.autocast(dtype)``; arguments as
    :class:`AmpValLoop`."""

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 dtype: Union[None, str, torch.dtype] = None) -> None:
        super().__init__(runner, dataloader, evaluator, fp16=False)
        self.dtype = resolve_amp_dtype(dtype)
        log_amp_loop(self)

    @torch.no_grad()
    def run_iter(self, idx: int, data_batch: Sequence[dict]) -> None:
        """One mini-batch: MMEngine's ``TestLoop.run_iter`` with our
        autocast region instead of its ``autocast(enabled=fp16)``."""
        self.runner.call_hook(
            'before_test_iter', batch_idx=idx, data_batch=data_batch)
        with amp_autocast(self.runner.model, self.dtype):
            outputs = self.runner.model.test_step(data_batch)
        outputs, self.test_loss = _update_losses(outputs, self.test_loss)
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook(
            'after_test_iter',
            batch_idx=idx,
            data_batch=data_batch,
            outputs=outputs)
