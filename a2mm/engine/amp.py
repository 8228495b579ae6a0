"""Moved: the dtype helpers to :mod:`a2mm.utils.amp`, the ``--amp``
argument and config edits of the tools to :mod:`a2mm.apis.config_edits`.

This alias keeps ``a2mm.engine.amp`` importing; new code imports the new
paths.
"""
from a2mm.apis.config_edits import (add_amp_arguments,  # noqa: F401
                                    enable_amp_test, enable_amp_train)
from a2mm.utils.amp import *  # noqa: F401,F403

__all__ = [
    'add_amp_arguments', 'AMP_DTYPES', 'resolve_amp_dtype',
    'model_device_type', 'amp_autocast', 'enable_amp_train', 'enable_amp_test'
]
