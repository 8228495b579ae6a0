"""Moved to :mod:`a2mm.utils.checkpoint.loader`; this alias keeps
``a2mm.engine.checkpoint`` working (older docs named it)."""
from a2mm.utils.checkpoint.loader import (SAFE_GLOBALS,  # noqa: F401
                                          CheckpointLoadError,
                                          load_checkpoint_file,
                                          load_from_safe_local)

__all__ = [
    'SAFE_GLOBALS', 'CheckpointLoadError', 'load_checkpoint_file',
    'load_from_safe_local'
]
