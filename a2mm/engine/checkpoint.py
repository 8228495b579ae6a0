"""Load MMEngine checkpoints with ``torch.load(weights_only=True)``.

Why: since PyTorch 2.6 ``torch.load`` defaults to ``weights_only=True``,
whose unpickler accepts only tensors, plain containers and an allow-list of
globals. MMEngine 0.10.7 calls ``torch.load(filename, map_location=...)``
(``mmengine/runner/checkpoint.py``, ``load_from_local``) on the checkpoints
its own runner wrote, and those also hold a few non-tensor objects, so
``tools/test.py`` and ``--resume`` fail with "Weights only load failed".
Turning ``weights_only`` off would let any downloaded ``.pth`` run code.

What: importing this module (``import a2mm`` does) adds *exactly* the globals
that a checkpoint saved by ``tools/train.py`` contains to PyTorch's
allow-list (``torch.serialization.add_safe_globals``), found by listing the
globals of real checkpoints with
``torch.serialization.get_unsafe_globals_in_checkpoint``:

* ``mmengine.logging.history_buffer.HistoryBuffer``: the logged scalars of
  ``message_hub``;
* ``numpy`` arrays, numeric dtypes and scalars inside them (and the
  ``best_score``/``eta`` scalars of ``runtime_info``), under their numpy 2
  and numpy 1 module paths;
* ``builtins.getattr``, which pickle uses to store the
  ``HistoryBuffer.min/max/mean/current`` methods kept in each buffer. It is
  *not* allowed in general: the name is mapped to :func:`_statistics_getattr`,
  which returns only those methods and refuses everything else.

Everything else, e.g. a ``__reduce__`` payload that calls ``os.system``,
is still refused by PyTorch. Remove this module once MMEngine loads its own
checkpoints under ``weights_only=True`` by itself.
"""
from typing import Callable

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

__all__ = ['SAFE_GLOBALS']

# Methods that HistoryBuffer keeps in ``_statistics_methods`` by default.
_STATISTICS = ('min', 'max', 'current', 'mean')
_NUMERIC_DTYPES = ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8',
                   'uint16', 'uint32', 'uint64', 'float16', 'float32',
                   'float64')


def _statistics_getattr(obj: object, name: str) -> Callable:
    """Stand-in for ``builtins.getattr`` during unpickling: only
    ``HistoryBuffer.<min|max|current|mean>``.

    Raises:
        pickle.UnpicklingError: any other object or attribute.
    """
    if obj is HistoryBuffer and name in _STATISTICS:
        return getattr(HistoryBuffer, name)
    import pickle
    raise pickle.UnpicklingError(
        f'a2mm checkpoint loading refuses getattr({obj!r}, {name!r}): only '
        f'HistoryBuffer.{{{",".join(_STATISTICS)}}} are allowed')


def _numpy_globals() -> list:
    """numpy's array, dtype and scalar rebuilders under the module paths that
    numpy 2 (``numpy._core``) and numpy 1 (``numpy.core``) pickle them with.
    """
    multiarray = np._core.multiarray if hasattr(np, '_core') else \
        np.core.multiarray
    entries = [np.ndarray, np.dtype]
    # BUILD sets the state of each dtype instance, whose class since numpy
    # 1.25 is per type (numpy.dtypes.Float64DType, ...): numeric ones only.
    entries += [type(np.dtype(t)) for t in _NUMERIC_DTYPES]
    for module in ('numpy._core.multiarray', 'numpy.core.multiarray'):
        entries += [(multiarray._reconstruct, f'{module}._reconstruct'),
                    (multiarray.scalar, f'{module}.scalar')]
    return entries


SAFE_GLOBALS = [
    HistoryBuffer,
    (_statistics_getattr, 'builtins.getattr'),
    (_statistics_getattr, '__builtin__.getattr'),
] + _numpy_globals()

# torch < 2.6 loads with weights_only=False by default (and has no
# (object, name) entries in the allow-list), so there is nothing to add.
if tuple(int(v) for v in torch.__version__.split('.')[:2]) >= (2, 6):
    torch.serialization.add_safe_globals(SAFE_GLOBALS)
