"""a2mm's MMEngine hooks, one per file; importing this package registers
them in MMAction2's ``HOOKS``."""
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .bad_video_hook import BadVideoHook
from .checkpoint_shape_check_hook import CheckpointShapeCheckHook
from .float32_scores_hook import Float32ScoresHook
from .resume_seed_hook import ResumeSeedHook
from .visualization_hook import MultiViewVisualizationHook

__all__ = [
    'AtomicCheckpointHook', 'BadVideoHook', 'CheckpointShapeCheckHook',
    'Float32ScoresHook', 'MultiViewVisualizationHook', 'ResumeSeedHook'
]
