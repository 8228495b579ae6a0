"""Moved to :mod:`a2mm.utils.checkpoint.safe_numpy`; this alias keeps
``a2mm.engine.safe_numpy`` working."""
from a2mm.utils.checkpoint.safe_numpy import (  # noqa: F401
    NUMERIC_DTYPES, NUMPY_SAFE_GLOBALS, DTypeSpec, SafeArray, to_plain_numpy)

__all__ = [
    'NUMERIC_DTYPES', 'DTypeSpec', 'SafeArray', 'NUMPY_SAFE_GLOBALS',
    'to_plain_numpy'
]
