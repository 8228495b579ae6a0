"""``--deterministic`` on CUDA.

MMEngine's ``randomness=dict(deterministic=True)`` calls
``torch.use_deterministic_algorithms(True)``. On CUDA two things then stop a
video model at its first backward pass:

* cuBLAS needs ``CUBLAS_WORKSPACE_CONFIG`` set before its first call to be
  deterministic, and raises otherwise;
* some backward kernels have no deterministic CUDA implementation and raise:
  ``MaxPool3d`` (the stem of I3D-style ResNets) and ``AdaptiveAvgPool3d``
  (MMAction2's I3D head) among them (PyTorch's
  ``torch.use_deterministic_algorithms`` docs; MMAction2 discussion #2394).

:func:`prepare_cuda_determinism` sets the cuBLAS variable (before the runner
is built) and :func:`relax_cuda_determinism` keeps deterministic algorithms
wherever they exist but lets those few kernels run with a warning (after the
runner has applied its randomness settings). On the CPU nothing changes.
"""
import os
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.logging import print_log

__all__ = ['prepare_cuda_determinism', 'relax_cuda_determinism']

CUBLAS_WORKSPACE = ':4096:8'  # the value PyTorch's reproducibility notes give


def _wants_cuda_determinism(cfg: Config,
                            cuda: Optional[bool] = None) -> bool:
    randomness = cfg.get('randomness') or {}
    if cuda is None:
        cuda = torch.cuda.is_available()
    return bool(randomness.get('deterministic')) and cuda


def prepare_cuda_determinism(cfg: Config,
                             cuda: Optional[bool] = None) -> bool:
    """Set ``CUBLAS_WORKSPACE_CONFIG`` (unless the user set it) when ``cfg``
    asks for determinism on a CUDA machine; returns whether it did."""
    if not _wants_cuda_determinism(cfg, cuda):
        return False
    os.environ.setdefault('CUBLAS_WORKSPACE_CONFIG', CUBLAS_WORKSPACE)
    return True


def relax_cuda_determinism(cfg: Config, cuda: Optional[bool] = None) -> bool:
    """After the runner set ``use_deterministic_algorithms(True)``: warn,
    instead of failing, at kernels with no deterministic CUDA version."""
    if not _wants_cuda_determinism(cfg, cuda):
        return False
    torch.use_deterministic_algorithms(True, warn_only=True)
    print_log(
        'deterministic=True on CUDA: deterministic algorithms are used '
        'wherever PyTorch has them; the few backward kernels that have none '
        '(MaxPool3d, AdaptiveAvgPool3d) run anyway with a PyTorch warning, '
        'so runs can differ in the last bits there.',
        logger='current')
    return True
