"""a2mm's MMEngine hooks, one per file; importing this package registers
them in MMAction2's ``HOOKS``."""
from .checkpoint_shape_check_hook import CheckpointShapeCheckHook

__all__ = ['CheckpointShapeCheckHook']
