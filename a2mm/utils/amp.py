"""Mixed precision dtypes: the names ``--amp-dtype`` and the configs use,
and the autocast region a2mm enters on the model's device.

Used by the three pieces of a2mm's mixed precision (docs/train_test.md,
"Mixed precision"):

* :class:`~a2mm.engine.optimizers.DeviceAmpOptimWrapper`: MMEngine's
  ``AmpOptimWrapper`` that also trains on a CPU;
* :class:`~a2mm.engine.runner.AmpValLoop` /
  :class:`~a2mm.engine.runner.AmpTestLoop`: MMEngine's loops with a
  ``dtype`` (their ``fp16=True`` autocasts to the device's default only);
* :class:`~a2mm.engine.hooks.Float32ScoresHook`: hands the head's scores to
  MMAction2 in float32 (it calls ``.numpy()`` on them, and numpy has no
  bfloat16).

The config edits of ``tools/train.py --amp`` / ``tools/test.py --amp``
that put them in place are :mod:`a2mm.apis.config_edits`.
"""
from typing import Dict, Optional, Union

import torch
import torch.nn as nn

__all__ = [
    'AMP_DTYPES', 'resolve_amp_dtype', 'model_device_type', 'amp_autocast'
]

#: Short names of the command line -> the dtype names MMEngine's
#: ``AmpOptimWrapper(dtype=...)`` takes.
AMP_DTYPES: Dict[str, str] = {'fp16': 'float16', 'bf16': 'bfloat16'}


def resolve_amp_dtype(
        dtype: Union[None, str, torch.dtype]) -> Optional[torch.dtype]:
    """``'fp16'``/``'float16'``, ``'bf16'``/``'bfloat16'`` (or the
    ``torch.dtype``) as a ``torch.dtype``; None stays None (the device's
    autocast default: float16 on CUDA, bfloat16 on the CPU).

    Raises:
        ValueError: any other name, quoting it and the allowed ones.
    """
    if dtype is None or isinstance(dtype, torch.dtype):
        if dtype not in (None, torch.float16, torch.bfloat16):
            raise ValueError(f'amp dtype must be float16 or bfloat16, '
                             f'got {dtype}')
        return dtype
    name = AMP_DTYPES.get(dtype, dtype)
    if name not in AMP_DTYPES.values():
        allowed = sorted(AMP_DTYPES) + sorted(AMP_DTYPES.values())
        raise ValueError(f'amp dtype must be one of {allowed}, '
                         f'got {dtype!r}')
    return getattr(torch, name)


def model_device_type(model: nn.Module) -> str:
    """``'cuda'``, ``'cpu'``, ... : where the model's first parameter
    lives (``'cpu'`` for a model without parameters)."""
    param = next(model.parameters(), None)
    return 'cpu' if param is None else param.device.type


def amp_autocast(model: nn.Module,
                 dtype: Optional[torch.dtype]) -> torch.autocast:
    """``torch.autocast`` on the model's device in ``dtype`` (None: the
    device's default).

    MMEngine's ``mmengine.runner.autocast`` asserts ``dtype=bfloat16`` on
    the CPU, although PyTorch's CPU autocast also runs float16 (torch>=2.3),
    so a2mm enters ``torch.autocast`` itself."""
    device_type = model_device_type(model)
    if dtype is None:
        # torch.get_autocast_dtype is new in torch 2.4.
        getter = getattr(torch, 'get_autocast_dtype', None)
        dtype = getter(device_type) if getter is not None else (
            torch.bfloat16 if device_type == 'cpu' else torch.float16)
    return torch.autocast(device_type=device_type, dtype=dtype)
