"""Moved to :mod:`a2mm.utils.determinism`; this alias keeps
``a2mm.engine.determinism`` working."""
from a2mm.utils.determinism import (CUBLAS_WORKSPACE,  # noqa: F401
                                    prepare_cuda_determinism,
                                    relax_cuda_determinism)

__all__ = ['prepare_cuda_determinism', 'relax_cuda_determinism']
