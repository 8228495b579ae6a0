"""What a2mm adds to MMEngine's runner: safe checkpoint loading (imported for
its side effect of allow-listing MMEngine's checkpoint contents) and the
CPU fallback for distributed runs; a visualisation hook for multi-view
tests."""
from . import checkpoint  # noqa: F401
from .dist import setup_cpu_distributed
from .visualization_hook import MultiViewVisualizationHook
from . import (atomic_checkpoint_hook, bad_video_hook, config_check,  # noqa: F401
               resume_seed_hook, skipped_videos_metric,
               state_dict_report)  # fault tolerance: docs/robustness.md
from . import (amp_loops, amp_optim_wrapper,  # noqa: F401
               float32_scores_hook)  # mixed precision: docs/train_test.md

__all__ = ['setup_cpu_distributed', 'MultiViewVisualizationHook']
