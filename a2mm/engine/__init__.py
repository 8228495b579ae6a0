"""What a2mm adds to MMEngine's runner: hooks (:mod:`a2mm.engine.hooks`) and
a visualisation hook for multi-view tests. ``setup_cpu_distributed`` moved
to :mod:`a2mm.utils.dist` and safe checkpoint loading to
:mod:`a2mm.utils.checkpoint`; both stay importable from here."""
from a2mm.utils.dist import setup_cpu_distributed
from .visualization_hook import MultiViewVisualizationHook
from . import hooks  # noqa: F401  (registers the hooks)
from . import (atomic_checkpoint_hook, bad_video_hook, config_check,  # noqa: F401
               resume_seed_hook,
               skipped_videos_metric)  # fault tolerance: docs/robustness.md
from . import (amp_loops, amp_optim_wrapper,  # noqa: F401
               float32_scores_hook)  # mixed precision: docs/train_test.md

__all__ = ['setup_cpu_distributed', 'MultiViewVisualizationHook']
