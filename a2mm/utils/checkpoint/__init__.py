"""Reading checkpoints and weights files safely, and saying what in them
does not fit a model.

* :mod:`.loader`: :func:`load_checkpoint_file`, ``torch.load`` with
  ``weights_only=True`` and a checked allow-list; :mod:`a2mm.compat` makes
  it MMEngine's loader for local paths when a2mm is imported;
* :mod:`.declared_sizes`: what a checkpoint would make torch allocate,
  bounded before torch reads it (:func:`model_budget`);
* :mod:`.safe_numpy`, :mod:`.config_text` and :mod:`.config_types`: the
  numpy objects and the config text of a checkpoint, read without running
  anything, and the names that text may give MMEngine to build;
* :mod:`.weights_file`: :func:`read_state_dict` of a ``.pth`` or a
  ``.safetensors`` file;
* :mod:`.state_dict_report`: :func:`compare_state_dicts`, missing,
  unexpected and wrong-shape keys of a checkpoint against a model;
* :mod:`.weights_fit`: :func:`load_weights` and :func:`check_fit`, the one
  way a2mm loads weights and says what did not fit, by an explicit policy.
"""
from .declared_sizes import model_budget
from .loader import (SAFE_GLOBALS, CheckpointLoadError, current_model_budget,
                     load_checkpoint_file, load_from_safe_local,
                     open_checkpoint, reset_model_budget, set_model_budget)
from .state_dict_report import (STRIP_BACKBONE, STRIP_MODULE,
                                CheckpointMismatchError, StateDictReport,
                                compare_state_dicts, revise_keys_of)
from .weights_file import is_safetensors, read_state_dict
from .weights_fit import POLICIES, check_fit, load_weights

__all__ = [
    'SAFE_GLOBALS', 'CheckpointLoadError', 'load_checkpoint_file',
    'load_from_safe_local', 'open_checkpoint', 'model_budget',
    'set_model_budget', 'reset_model_budget', 'current_model_budget',
    'CheckpointMismatchError', 'StateDictReport', 'compare_state_dicts',
    'revise_keys_of',
    'STRIP_MODULE', 'STRIP_BACKBONE', 'is_safetensors', 'read_state_dict',
    'POLICIES', 'check_fit', 'load_weights'
]
