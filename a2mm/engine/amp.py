"""Mixed precision (``--amp``) for training and testing: the dtype names,
the autocast region, and the config edits of ``tools/train.py`` and
``tools/test.py``.

Three pieces work together (docs/train_test.md, "Mixed precision"):

* :class:`~a2mm.engine.amp_optim_wrapper.DeviceAmpOptimWrapper`: MMEngine's
  ``AmpOptimWrapper`` that also trains on a CPU;
* :class:`~a2mm.engine.amp_loops.AmpValLoop` /
  :class:`~a2mm.engine.amp_loops.AmpTestLoop`: MMEngine's loops with a
  ``dtype`` (their ``fp16=True`` autocasts to the device's default only);
* :class:`~a2mm.engine.float32_scores_hook.Float32ScoresHook`: hands the
  head's scores to MMAction2 in float32 (it calls ``.numpy()`` on them, and
  numpy has no bfloat16).
"""
import argparse
from typing import Any, Dict, Optional, Union

import torch
import torch.nn as nn

__all__ = [
    'add_amp_arguments',
    'AMP_DTYPES', 'resolve_amp_dtype', 'model_device_type', 'amp_autocast',
    'enable_amp_train', 'enable_amp_test'
]

#: Short names of the command line -> the dtype names MMEngine's
#: ``AmpOptimWrapper(dtype=...)`` takes.
AMP_DTYPES: Dict[str, str] = {'fp16': 'float16', 'bf16': 'bfloat16'}


def add_amp_arguments(parser: argparse.ArgumentParser) -> None:
    """``--amp`` and ``--amp-dtype``, the same for ``tools/train.py`` and
    ``tools/test.py``; ``args.amp_dtype`` alone implies ``--amp``."""
    parser.add_argument(
        '--amp',
        action='store_true',
        help='automatic mixed precision (on GPUs and on the CPU)')
    parser.add_argument(
        '--amp-dtype',
        choices=sorted(AMP_DTYPES),
        default=None,
        help='the mixed precision dtype (implies --amp; default fp16)')


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


def _ensure_float32_scores_hook(cfg: Any) -> None:
    hooks = list(cfg.get('custom_hooks') or [])
    if not any(h.get('type') == 'Float32ScoresHook' for h in hooks):
        hooks.append(dict(type='Float32ScoresHook'))
    cfg['custom_hooks'] = hooks


def enable_amp_train(cfg: Any, dtype: str = 'fp16') -> None:
    """Train (and validate) in mixed precision: ``optim_wrapper`` becomes a
    :class:`DeviceAmpOptimWrapper` with ``dtype``, the validation loop an
    :class:`AmpValLoop` with the same dtype, and the config gets a
    :class:`Float32ScoresHook` (``tools/train.py --amp``).

    Args:
        cfg: the training config (edited in place).
        dtype: ``'fp16'`` or ``'bf16'`` (or ``'float16'``/``'bfloat16'``).

    Raises:
        ValueError: the config's optim wrapper or validation loop is of
            another type (one that a2mm cannot swap safely), or a bad dtype.
    """
    name = str(resolve_amp_dtype(dtype)).replace('torch.', '')
    wrapper_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper_type not in ('OptimWrapper', 'AmpOptimWrapper',
                            'DeviceAmpOptimWrapper'):
        raise ValueError(
            'amp training needs optim_wrapper.type OptimWrapper, '
            f'AmpOptimWrapper or DeviceAmpOptimWrapper, got {wrapper_type!r}')
    cfg.optim_wrapper.type = 'DeviceAmpOptimWrapper'
    cfg.optim_wrapper.dtype = name
    cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if cfg.get('val_cfg') is not None:
        _set_amp_loop(cfg, 'val_cfg', name)
    _ensure_float32_scores_hook(cfg)


def enable_amp_test(cfg: Any, dtype: str = 'fp16') -> None:
    """Test in mixed precision: ``test_cfg`` becomes an
    :class:`AmpTestLoop` with ``dtype`` and the config gets a
    :class:`Float32ScoresHook` (``tools/test.py --amp``).

    Raises:
        ValueError: ``test_cfg`` names another loop type, or a bad dtype.
    """
    name = str(resolve_amp_dtype(dtype)).replace('torch.', '')
    _set_amp_loop(cfg, 'test_cfg', name)
    _ensure_float32_scores_hook(cfg)


def _set_amp_loop(cfg: Any, key: str, dtype: str) -> None:
    plain, amp = {'val_cfg': ('ValLoop', 'AmpValLoop'),
                  'test_cfg': ('TestLoop', 'AmpTestLoop')}[key]
    loop = dict(cfg.get(key) or {})
    loop_type = loop.get('type', plain)
    if loop_type not in (plain, amp):
        raise ValueError(f'amp needs {key}.type {plain} or {amp}, '
                         f'got {loop_type!r}')
    loop.pop('fp16', None)  # MMEngine's flag; the dtype replaces it
    loop.update(type=amp, dtype=dtype)
    cfg[key] = loop
