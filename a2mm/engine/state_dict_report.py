"""Moved: the comparison to :mod:`a2mm.utils.checkpoint.state_dict_report`,
the hook to :mod:`a2mm.engine.hooks.checkpoint_shape_check_hook`; this
alias keeps ``a2mm.engine.state_dict_report`` working."""
from a2mm.utils.checkpoint.state_dict_report import (  # noqa: F401
    CheckpointMismatchError, StateDictReport, compare_state_dicts)
from .hooks.checkpoint_shape_check_hook import CheckpointShapeCheckHook

__all__ = [
    'CheckpointMismatchError', 'CheckpointShapeCheckHook',
    'StateDictReport', 'compare_state_dicts'
]
