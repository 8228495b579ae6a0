"""``_base_ = ['mmaction::...']`` and ``['a2mm::...']`` with mmengine 0.10.x.

Upstream bugs in mmengine 0.10.7's ``Config._get_cfg_path``
(``mmengine/config/config.py``), which resolves a ``pkg::path`` base:

1. it finds the package with ``pkg_resources`` (``is_installed``,
   ``get_installed_path`` in ``mmengine/utils/package_utils.py``), which
   recent setuptools no longer ships (84.2 here): ``ModuleNotFoundError: No
   module named 'pkg_resources'`` in a fresh venv;
2. it first looks the path up in the package's ``model-index.yml``
   metafiles and reads each ``Config`` as a string; MMAction2's
   ``configs/localization/bsn/metafile.yml`` lists it as a list, so the
   lookup dies with ``AttributeError: 'list' object has no attribute
   'partition'`` before it falls back to ``<package>/.mim/configs/<path>``
   (for a path with a folder the metafile lookup never matches anyway: it
   drops the ``.py`` of the name it looks for);
3. it knows only the scopes in ``MODULE2PACKAGE`` (no ``a2mm``).

Work-around: :func:`patch_config_paths` replaces ``Config._get_cfg_path``
for ``::`` paths only: the package is found with ``importlib`` (nothing is
imported), the file is ``<package>/.mim/configs/<path>`` (OpenMMLab's
``.mim`` layout; for a2mm run from a checkout, the checkout's ``configs/``),
and ``a2mm`` joins ``MODULE2PACKAGE``. Bases named by ``a2mm::`` get the
``mmaction`` scope: a2mm's configs are MMAction2 configs and a2mm registers
its modules in MMAction2's registries. Local paths go to mmengine's own
code. Remove when a2mm requires an mmengine whose ``_get_cfg_path`` uses
``importlib`` and reads list-valued ``Config`` entries.
"""
import importlib.util
import os.path as osp
from typing import Optional, Tuple

from mmengine.config import Config
from mmengine.config import utils as config_utils

from ..mim import shipped_dir

__all__ = ['SCOPE_OF', 'patch_config_paths', 'resolve_external_config']

# scope written before '::' -> registry scope the base's types are built in
SCOPE_OF = {'a2mm': 'mmaction'}
_ORIGINAL = '_a2mm_original_get_cfg_path'


def _package_dir(module: str) -> Optional[str]:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return None
    return osp.dirname(spec.origin)


def resolve_external_config(cfg_path: str) -> Tuple[str, str]:
    """``'mmaction::recognition/i3d/x.py'`` -> (absolute file, scope).

    Raises:
        ValueError: ``cfg_path`` is not ``<scope>::<path>`` with a known
            scope.
        ModuleNotFoundError: the package is not installed.
        FileNotFoundError: no such config in the package (names where it
            looked).
    """
    scope, _, rel = cfg_path.partition('::')
    if scope not in config_utils.MODULE2PACKAGE or not rel or '::' in rel:
        raise ValueError(
            f'{cfg_path!r}: an external config is "<scope>::<path>" with '
            f'one of the scopes {sorted(config_utils.MODULE2PACKAGE)}, e.g. '
            '"mmaction::recognition/i3d/i3d_imagenet-pretrained-r50_8xb8-'
            '32x2x1-100e_kinetics400-rgb.py"')
    package_dir = _package_dir(scope)
    if package_dir is None:
        package = config_utils.MODULE2PACKAGE[scope]
        raise ModuleNotFoundError(
            f'{cfg_path!r}: {package} is not installed (pip install '
            f'{package})')
    if scope == 'a2mm':  # .mim, or the checkout a2mm runs from
        candidate = osp.join(shipped_dir('configs'), rel)
    else:
        candidate = osp.join(package_dir, '.mim', 'configs', rel)
    if not osp.isfile(candidate):
        raise FileNotFoundError(
            f'{cfg_path!r}: no such config (looked for {candidate})')
    return candidate, SCOPE_OF.get(scope, scope)


def _get_cfg_path(cfg_path: str,
                  filename: str) -> Tuple[str, Optional[str]]:
    if '::' in cfg_path:
        return resolve_external_config(cfg_path)
    return getattr(Config, _ORIGINAL)(cfg_path, filename)


def patch_config_paths() -> None:
    """Install the replacement of ``Config._get_cfg_path`` (idempotent)."""
    config_utils.MODULE2PACKAGE.setdefault('a2mm', 'a2mm')
    if not hasattr(Config, _ORIGINAL):
        setattr(Config, _ORIGINAL, staticmethod(Config._get_cfg_path))
        Config._get_cfg_path = staticmethod(_get_cfg_path)
