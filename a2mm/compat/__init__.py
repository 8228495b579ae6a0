"""Work-arounds for the OpenMMLab releases a2mm runs on, one module each.

``import a2mm`` applies all of them, in this order, before it imports
``mmaction.models``; the tools apply them too (they import a2mm before
``Config.fromfile``, which parses ``_base_`` before ``custom_imports`` run).

* :mod:`.dependencies`: the installed mmengine, mmcv (``mmcv`` or
  ``mmcv-lite``) and MMAction2 fall in a2mm's tested ranges, or an
  ``ImportError`` names them and the command that fixes it (as
  ``mmaction/__init__.py`` does for its own dependencies).
* :mod:`.mmaction_drn`: MMAction2 1.2.0's PyPI wheel lacks
  ``mmaction.models.localizers.drn`` (open-mmlab/mmaction2#2714).
* :mod:`.config_paths`: ``_base_ = ['pkg::path']`` needs ``pkg_resources``
  in mmengine 0.10.x and dies on MMAction2's bsn metafile; it also knows
  the ``a2mm::`` scope.

Each module says how to remove it once upstream is fixed.
"""
from .config_paths import patch_config_paths
from .dependencies import check_dependencies
from .mmaction_drn import install_drn_stand_in


def apply_all() -> None:
    """Check the stack, then install the work-arounds (idempotent)."""
    check_dependencies()
    install_drn_stand_in()
    patch_config_paths()


__all__ = [
    'apply_all', 'check_dependencies', 'install_drn_stand_in',
    'patch_config_paths'
]
