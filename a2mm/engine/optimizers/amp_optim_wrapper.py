"""``DeviceAmpOptimWrapper``: MMEngine's ``AmpOptimWrapper`` that also
trains on a CPU.

MMEngine 0.10.7's ``AmpOptimWrapper.__init__`` asserts that a GPU, NPU, MLU
or MUSA device is present (``AssertionError: ``AmpOptimizerWrapper`` is only
available training on gpu, npu, mlu or musa``; reported upstream as
open-mmlab/mmpretrain#1556), builds its loss scaler from the deprecated
``torch.cuda.amp.GradScaler`` (open-mmlab/mmengine#1665), and autocasts
through ``mmengine.runner.autocast``, which allows only bfloat16 on the CPU.
PyTorch itself autocasts on the CPU in bfloat16 and float16 and has a CPU
``GradScaler`` (``torch.amp.GradScaler('cpu')``, torch>=2.3).

With an accelerator present this class *is* MMEngine's wrapper (its
``__init__`` and ``optim_context`` are called unchanged). Without one it
sets up the same state itself: a ``torch.amp.GradScaler('cpu')`` that scales
float16 losses (bfloat16 has float32's exponent range and is not scaled) and
``torch.autocast('cpu', dtype)`` around the forward pass. Remove this class
when MMEngine's wrapper accepts the CPU.
"""
from contextlib import contextmanager
from typing import Iterator, Union

import torch
import torch.nn as nn
from mmaction.registry import OPTIM_WRAPPERS
from mmengine.device import (is_cuda_available, is_mlu_available,
                             is_musa_available, is_npu_available)
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from a2mm.utils.amp import amp_autocast, resolve_amp_dtype

__all__ = ['DeviceAmpOptimWrapper', 'has_accelerator']


def has_accelerator() -> bool:
    """Whether a device MMEngine's ``AmpOptimWrapper`` accepts is present
    (CUDA, NPU, MLU or MUSA)."""
    return (is_cuda_available() or is_npu_available() or is_mlu_available()
            or is_musa_available())


def cpu_grad_scaler(loss_scale: Union[str, float, dict],
                    enabled: bool) -> 'torch.amp.GradScaler':
    """A CPU ``GradScaler`` configured as MMEngine reads ``loss_scale``:
    ``'dynamic'`` (defaults), a float (the initial, static scale) or a dict
    of ``GradScaler`` arguments."""
    if not hasattr(torch.amp, 'GradScaler'):
        if enabled:
            raise RuntimeError('float16 training on the CPU needs '
                               'torch.amp.GradScaler (torch>=2.3), got torch '
                               f'{torch.__version__}; use dtype bfloat16')
        return torch.cuda.amp.GradScaler(enabled=False)
    if loss_scale == 'dynamic':
        kwargs = {}
    elif isinstance(loss_scale, float):
        kwargs = dict(init_scale=loss_scale)
    elif isinstance(loss_scale, dict):
        kwargs = dict(loss_scale)
    else:
        raise TypeError('loss_scale must be a float, a dict or "dynamic", '
                        f'got {loss_scale!r}')
    kwargs['enabled'] = enabled and kwargs.get('enabled', True)
    return torch.amp.GradScaler('cpu', **kwargs)


@OPTIM_WRAPPERS.register_module()
class DeviceAmpOptimWrapper(AmpOptimWrapper):
    """Automatic mixed precision on GPUs (MMEngine's ``AmpOptimWrapper``)
    and on the CPU.

    Args:
        loss_scale (str | float | dict): ``'dynamic'``, a static initial
            scale, or ``GradScaler`` arguments, as in MMEngine. On the CPU
            only float16 is scaled. Default: ``'dynamic'``.
        dtype (str | torch.dtype, optional): the autocast dtype,
            ``'float16'`` or ``'bfloat16'`` (MMEngine also accepts
            ``'float32'``/``'float64'`` on accelerators). None: the
            device's default (float16 on CUDA, bfloat16 on the CPU).
        use_fsdp (bool): MMEngine's sharded scaler; accelerators only.
        **kwargs: the arguments of ``OptimWrapper`` (``optimizer``,
            ``accumulative_counts``, ``clip_grad``).
    """

    def __init__(self,
                 loss_scale: Union[str, float, dict] = 'dynamic',
                 dtype: Union[None, str, torch.dtype] = None,
                 use_fsdp: bool = False,
                 **kwargs) -> None:
        self.on_cpu = not has_accelerator()
        if not self.on_cpu:
            super().__init__(loss_scale=loss_scale, dtype=dtype,
                             use_fsdp=use_fsdp, **kwargs)
            return
        if use_fsdp:
            raise ValueError('use_fsdp=True needs a GPU; none is available')
        OptimWrapper.__init__(self, **kwargs)
        self.cast_dtype = resolve_amp_dtype(dtype)
        fp16 = self.cast_dtype == torch.float16
        # MMEngine's step() passes this to GradScaler.update: a float
        # loss_scale stays fixed.
        self._scale_update_param = (
            loss_scale if isinstance(loss_scale, float) else None)
        self.loss_scaler = cpu_grad_scaler(loss_scale, enabled=fp16)
        dtype_name = str(self.cast_dtype or torch.bfloat16).split('.')[-1]
        print_log(
            f'DeviceAmpOptimWrapper: no GPU; mixed precision on the CPU '
            f"(torch.autocast('cpu', {dtype_name}), loss scaling "
            f"{'on' if self.loss_scaler.is_enabled() else 'off'})",
            logger='current')

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        """Autocast the forward pass (and MMEngine's gradient-accumulation
        context)."""
        if not self.on_cpu:
            with super().optim_context(model):
                yield
            return
        with OptimWrapper.optim_context(self, model), \
                amp_autocast(model, self.cast_dtype):
            yield
