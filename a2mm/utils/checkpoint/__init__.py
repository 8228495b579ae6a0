"""Reading checkpoints and weights files safely, and saying what in them
does not fit a model.

* :mod:`.loader`: :func:`load_checkpoint_file`, ``torch.load`` with
  ``weights_only=True`` and a checked allow-list; :mod:`a2mm.compat` makes
  it MMEngine's loader for local paths when a2mm is imported;
* :mod:`.safe_numpy` and :mod:`.config_text`: the numpy objects and the
  config text of a checkpoint, read without running anything;
* :mod:`.weights_file`: :func:`read_state_dict` of a ``.pth`` or a
  ``.safetensors`` file;
* :mod:`.state_dict_report`: :func:`compare_state_dicts`, missing,
  unexpected and wrong-shape keys of a checkpoint against a model.
"""
from .loader import (SAFE_GLOBALS, CheckpointLoadError, load_checkpoint_file,
                     load_from_safe_local)
from .state_dict_report import (CheckpointMismatchError, StateDictReport,
                                compare_state_dicts)
from .weights_file import is_safetensors, read_state_dict

__all__ = [
    'SAFE_GLOBALS', 'CheckpointLoadError', 'load_checkpoint_file',
    'load_from_safe_local', 'CheckpointMismatchError', 'StateDictReport',
    'compare_state_dicts', 'is_safetensors', 'read_state_dict'
]
