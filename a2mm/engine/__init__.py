"""What a2mm adds to MMEngine's runner: hooks (:mod:`.hooks`: fault
tolerance, docs/robustness.md; a visualisation hook for multi-view tests),
mixed precision loops (:mod:`.runner`) and optim wrapper (:mod:`.optimizers`)
(docs/train_test.md). ``setup_cpu_distributed`` moved to
:mod:`a2mm.utils.dist` and safe checkpoint loading to
:mod:`a2mm.utils.checkpoint`; both stay importable from here."""
from a2mm.utils.dist import setup_cpu_distributed
from . import hooks, optimizers, runner  # noqa: F401  (registers them)
from .hooks import MultiViewVisualizationHook

__all__ = ['setup_cpu_distributed', 'MultiViewVisualizationHook']
