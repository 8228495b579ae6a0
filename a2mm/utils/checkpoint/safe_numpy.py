"""Rebuild the numpy objects of a checkpoint without letting the pickle set
a dtype's internals.

Why: MMEngine checkpoints hold numpy arrays and scalars (the logged values
of ``message_hub``). numpy pickles a dtype as ``numpy.dtype('f8', False,
True)`` followed by a BUILD with its state ``(3, '<', subarray, names,
fields, elsize, alignment, flags)``. Allow-listing the dtype classes for
``torch.load(weights_only=True)`` lets that BUILD run numpy's
``dtype.__setstate__`` with any state: a ``float64`` dtype given a field of
dtype ``object`` turns 8 bytes of the file into an object pointer, and the
interpreter dies with SIGSEGV (or worse) once the array is read.

What: stand-ins for the four names numpy's pickles use, each checking its
arguments before anything is built:

* ``numpy.dtype`` -> :class:`DTypeSpec`: a dtype named by a string of
  :data:`NUMERIC_DTYPES` only; its BUILD accepts nothing but the state
  numpy itself writes for that dtype (byte order ``<``, ``>`` or ``|``);
* ``numpy.core.multiarray._reconstruct`` (numpy 1 and 2 paths) ->
  :func:`reconstruct`, an empty :class:`SafeArray`, whose BUILD checks the
  shape, the :class:`DTypeSpec` and that the raw bytes are exactly
  ``prod(shape) * itemsize`` long before numpy copies them;
* ``numpy.core.multiarray.scalar`` -> :func:`scalar` (``itemsize`` bytes of
  a :class:`DTypeSpec`);
* ``numpy.ndarray`` -> :func:`ndarray_marker`, usable only as the first
  argument of :func:`reconstruct`.

:func:`to_plain_numpy` then turns every :class:`SafeArray` into a plain
``numpy.ndarray`` and every :class:`DTypeSpec` into its ``numpy.dtype``.
"""
import math
import pickle
from typing import Any, Dict, Tuple

import numpy as np

__all__ = [
    'NUMERIC_DTYPES', 'DTypeSpec', 'SafeArray', 'NUMPY_SAFE_GLOBALS',
    'to_plain_numpy'
]

#: dtype names (as ``numpy.dtype.__reduce__`` writes them) that a checkpoint
#: may hold: booleans, integers, floats and complex numbers.
NUMERIC_DTYPES = ('b1', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8', 'f2',
                  'f4', 'f8', 'c8', 'c16')
_BYTE_ORDERS = ('<', '>', '|')


def _refuse(message: str) -> None:
    raise pickle.UnpicklingError(f'numpy data refused: {message}')


class DTypeSpec:
    """A numeric dtype named by a string, standing in for ``numpy.dtype``
    while unpickling (see the module docstring).

    Args:
        name (str): one of :data:`NUMERIC_DTYPES`.
        align (bool): must be False, as numpy writes it.
        copy (bool): ignored (numpy writes True).
    """

    dtype: np.dtype

    def __new__(cls, name: str, align: bool = False,
                copy: bool = True) -> 'DTypeSpec':
        # __new__, not __init__: a pickle's NEWOBJ calls only __new__
        if type(name) is not str or name not in NUMERIC_DTYPES:
            _refuse(f'dtype {name!r} is not one of '
                    f'{", ".join(NUMERIC_DTYPES)}')
        if align is not False:
            _refuse(f'dtype {name!r} with align={align!r}')
        self = super().__new__(cls)
        self.dtype = np.dtype(name)
        return self

    def __setstate__(self, state: Any) -> None:
        """Take the byte order from ``state`` if, and only if, ``state`` is
        exactly what numpy writes for this dtype in that byte order."""
        order = state[1] if type(state) is tuple and len(state) == 8 else None
        if order in _BYTE_ORDERS:
            candidate = self.dtype.newbyteorder(
                '=' if order == '|' else order)
            if candidate.__reduce__()[2] == state:
                self.dtype = candidate
                return
        _refuse(f'state {state!r} for dtype {self.dtype.str[1:]!r}: only the '
                'plain state numpy writes for a numeric dtype is accepted')


def _check_shape(shape: Any) -> Tuple[int, ...]:
    if type(shape) is not tuple or not all(
            type(n) is int and n >= 0 for n in shape) or len(shape) > 32:
        _refuse(f'array shape {shape!r} (want a tuple of at most 32 '
                'non-negative ints)')
    return shape


class SafeArray(np.ndarray):
    """An ndarray that only :func:`reconstruct` creates and only a checked
    BUILD fills; calling the class itself is refused."""

    def __new__(cls, *args, **kwargs):
        _refuse('SafeArray can only be created by _reconstruct')

    def __setstate__(self, state: Any) -> None:
        if type(state) is not tuple or len(state) != 5 or state[0] != 1:
            _refuse(f'array state of type {type(state).__name__} (want '
                    '(1, shape, dtype, is_fortran, bytes))')
        _, shape, spec, is_fortran, raw = state
        shape = _check_shape(shape)
        if type(spec) is not DTypeSpec:
            _refuse(f'array dtype {type(spec).__name__} (want a numeric '
                    'numpy.dtype)')
        if type(is_fortran) is not bool or type(raw) is not bytes:
            _refuse('array order or data of the wrong type')
        size = math.prod(shape) * spec.dtype.itemsize
        if len(raw) != size:
            _refuse(f'array of shape {shape} and dtype {spec.dtype} needs '
                    f'{size} bytes, got {len(raw)}')
        super().__setstate__((1, shape, spec.dtype, is_fortran, raw))


def ndarray_marker(*args, **kwargs):
    """``numpy.ndarray`` in a pickle: only an argument of ``_reconstruct``.
    """
    _refuse('numpy.ndarray may only be rebuilt through _reconstruct')


def reconstruct(cls: Any, shape: Any, typecode: Any) -> SafeArray:
    """``numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')``: an empty
    array that the following BUILD fills."""
    if cls is not ndarray_marker or shape != (0, ) or typecode != b'b':
        _refuse(f'_reconstruct({cls!r}, {shape!r}, {typecode!r}): only '
                "_reconstruct(numpy.ndarray, (0,), b'b') is accepted")
    return np.ndarray.__new__(SafeArray, (0, ), np.uint8)


def scalar(spec: Any, raw: Any = None) -> np.generic:
    """``numpy.core.multiarray.scalar(dtype, bytes)``: one numeric value."""
    if type(spec) is not DTypeSpec or type(raw) is not bytes or \
            len(raw) != spec.dtype.itemsize:
        _refuse(f'scalar({type(spec).__name__}, {type(raw).__name__}): want '
                'a numeric dtype and exactly its itemsize of bytes')
    return np.frombuffer(raw, dtype=spec.dtype)[0].copy()


NUMPY_SAFE_GLOBALS = [
    (DTypeSpec, 'numpy.dtype'),
    (ndarray_marker, 'numpy.ndarray'),
    SafeArray,
] + [(fn, f'{module}.{name}')
     for module in ('numpy._core.multiarray', 'numpy.core.multiarray')
     for fn, name in ((reconstruct, '_reconstruct'), (scalar, 'scalar'))]
"""The entries for ``torch.serialization.add_safe_globals``: the stand-ins
under the names numpy 2 and numpy 1 pickle with."""


def to_plain_numpy(obj: Any, plain_classes: Tuple[type, ...] = ()) -> Any:
    """Replace :class:`SafeArray` and :class:`DTypeSpec` by plain numpy
    objects in ``obj``, in place where the container allows.

    Args:
        obj: what the unpickler returned.
        plain_classes: classes (e.g. ``HistoryBuffer``) whose instances'
            attributes are searched too.

    Each object is visited once, so shared references stay shared and a
    pickle that repeats one object many times stays cheap.
    """
    memo: Dict[int, Any] = {}

    def walk(item: Any) -> Any:
        key = id(item)
        if key in memo:
            return memo[key]
        if isinstance(item, SafeArray):
            memo[key] = item.view(np.ndarray)
        elif type(item) is DTypeSpec:
            memo[key] = item.dtype
        elif isinstance(item, (dict, list)):
            memo[key] = item
            pairs = item.items() if isinstance(item, dict) else \
                enumerate(item)
            for k, value in list(pairs):
                item[k] = walk(value)
        elif type(item) is tuple:
            memo[key] = item  # a tuple cannot hold itself
            memo[key] = tuple(walk(value) for value in item)
        elif plain_classes and type(item) in plain_classes:
            memo[key] = item
            for name, value in list(vars(item).items()):
                setattr(item, name, walk(value))
        else:
            memo[key] = item
        return memo[key]

    return walk(obj)
