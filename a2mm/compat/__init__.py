"""Everything ``import a2mm`` changes outside a2mm, in one place.

Work-arounds for the OpenMMLab releases a2mm runs on, one module each, each
naming the upstream behaviour or bug it works around and how to remove it.
``import a2mm`` calls :func:`apply` once, before it imports
``mmaction.models``; the tools import a2mm before ``Config.fromfile``
(which parses ``_base_`` before ``custom_imports`` run).
``tests/compat/test_apply.py`` lists exactly what importing a2mm changes.

1. :mod:`.dependencies`: the installed mmengine, mmcv (``mmcv`` or
   ``mmcv-lite``) and MMAction2 fall in a2mm's tested ranges, or an
   ``ImportError`` names them and the command that fixes it (as
   ``mmaction/__init__.py`` does for its own dependencies). Changes
   nothing.
2. :mod:`.mmaction_drn`: MMAction2 1.2.0's PyPI wheel lacks
   ``mmaction.models.localizers.drn`` (open-mmlab/mmaction2#2714): stand-in
   modules go into ``sys.modules`` (only for a wheel with the bug).
3. :mod:`.config_paths`: ``_base_ = ['pkg::path']`` needs ``pkg_resources``
   in mmengine 0.10.x and dies on MMAction2's bsn metafile: MMEngine's
   ``Config._get_cfg_path`` is replaced for ``::`` paths, and ``a2mm``
   joins its ``MODULE2PACKAGE``.
4. :mod:`.checkpoint_loader`: MMEngine 0.10.7 loads checkpoints without
   ``weights_only`` and executes their stored config text: a2mm's safe
   loader becomes MMEngine's ``CheckpointLoader`` for local paths, and its
   checked stand-ins join torch's safe globals.
"""
from .checkpoint_loader import install_safe_checkpoint_loader
from .config_paths import patch_config_paths
from .dependencies import check_dependencies
from .mmaction_drn import install_drn_stand_in


def apply() -> None:
    """Check the stack, then install the work-arounds, in the order above
    (idempotent)."""
    check_dependencies()
    install_drn_stand_in()
    patch_config_paths()
    install_safe_checkpoint_loader()


__all__ = [
    'apply', 'check_dependencies', 'install_drn_stand_in',
    'patch_config_paths', 'install_safe_checkpoint_loader'
]
