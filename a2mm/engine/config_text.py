"""Moved to :mod:`a2mm.utils.checkpoint.config_text`; this alias keeps
``a2mm.engine.config_text`` working."""
from a2mm.utils.checkpoint.config_text import (  # noqa: F401
    ConfigTextError, check_config_text, gpu_ids_line)

__all__ = ['ConfigTextError', 'check_config_text', 'gpu_ids_line']
