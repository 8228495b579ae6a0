"""Moved to :mod:`a2mm.utils.checkpoint.weights_file`; this alias keeps
``a2mm.models.backbones.weights_file`` working."""
from a2mm.utils.checkpoint.weights_file import (WRAPPER_KEYS,  # noqa: F401
                                                is_safetensors,
                                                read_state_dict)

__all__ = ['is_safetensors', 'read_state_dict']
