"""What a2mm adds to MMEngine's runner: safe checkpoint loading (imported for
its side effect of allow-listing MMEngine's checkpoint contents) and the
CPU fallback for distributed runs; hooks (:mod:`.hooks`: fault tolerance,
docs/robustness.md; a visualisation hook for multi-view tests), mixed
precision loops (:mod:`.runner`) and optim wrapper (:mod:`.optimizers`)
(docs/train_test.md)."""
from . import checkpoint  # noqa: F401
from .dist import setup_cpu_distributed
from . import state_dict_report  # noqa: F401
from . import hooks, optimizers, runner  # noqa: F401  (registers them)
from .hooks import MultiViewVisualizationHook

__all__ = ['setup_cpu_distributed', 'MultiViewVisualizationHook']
