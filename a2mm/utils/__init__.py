"""Small helpers over torch, MMEngine and MMAction2 that import nothing of
a2mm but its registry and version, and change nothing outside a2mm when
imported (what a2mm installs in MMEngine and torch is in :mod:`a2mm.compat`):
safe checkpoint loading and state-dict reports
(:mod:`a2mm.utils.checkpoint`), the mixed precision dtypes and autocast
region (:mod:`~a2mm.utils.amp`), the input shape a backbone takes, for dry
runs and FLOP counts (:mod:`~a2mm.utils.input_shape`), this process's peak
memory (:mod:`~a2mm.utils.proc_memory`) and, for the tools,
:mod:`~a2mm.utils.dist` (distributed runs on CPU; every run ending in step),
:mod:`~a2mm.utils.determinism` (``--deterministic`` on CUDA) and
:mod:`~a2mm.utils.work_dir_lock` (one training run per work dir), which are
imported only where they are used.
"""
from .dist import close_distributed, setup_cpu_distributed
from .input_shape import guess_input_shape

__all__ = ['setup_cpu_distributed', 'close_distributed', 'guess_input_shape']
