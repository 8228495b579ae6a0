"""Checkpoints load without running code from them, wherever MMEngine loads.

Upstream behaviour: mmengine 0.10.7's ``CheckpointLoader`` reads a local
file with ``torch.load(filename, map_location=...)`` (``mmengine/runner/
checkpoint.py``, ``load_from_local``), without ``weights_only``, so the
installed torch's default decides and ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``
turns it off; the runner's own checkpoints hold a few non-tensor objects that
plain ``weights_only=True`` refuses; and ``Runner.resume`` executes the
config text stored in a checkpoint.

Work-around (the loader itself, its allow-list and what it refuses:
:mod:`a2mm.utils.checkpoint.loader`): :func:`install_safe_checkpoint_loader`

* registers :func:`~a2mm.utils.checkpoint.load_from_safe_local` as
  MMEngine's loader for local paths (``CheckpointLoader.register_scheme(
  prefixes='', force=True)``, MMEngine's own extension point), so the
  runner (``load_from``, ``--resume``), ``mmengine.runner.load_checkpoint``,
  MMAction2's ``init_recognizer`` and the backbones' ``pretrained`` all
  load through it;
* adds :data:`~a2mm.utils.checkpoint.SAFE_GLOBALS` to torch's
  ``weights_only`` allow-list (``torch.serialization.add_safe_globals``):
  the checked stand-ins for what a checkpoint of ``tools/train.py`` holds.

Remove once MMEngine loads with ``weights_only=True`` itself and stops
executing ``meta['config']``.
"""
import torch
from mmengine.runner.checkpoint import CheckpointLoader

__all__ = ['install_safe_checkpoint_loader']


def install_safe_checkpoint_loader() -> None:
    """Make a2mm's safe loader MMEngine's loader for local paths and allow
    its stand-ins in torch's ``weights_only`` unpickler (idempotent)."""
    from a2mm.utils.checkpoint.loader import (SAFE_GLOBALS,
                                              load_from_safe_local)
    torch.serialization.add_safe_globals(SAFE_GLOBALS)
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_safe_local, force=True)
