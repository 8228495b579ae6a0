"""Make MMAction2 1.2.0's PyPI wheel importable.

Upstream bug: open-mmlab/mmaction2#2714. The 1.2.0 wheel and sdist lack the
``mmaction/models/localizers/drn`` package (it has no ``__init__.py``, so
``find_packages`` leaves it out), while ``localizers/__init__.py`` still runs
``from .drn.drn import DRN``; ``import mmaction.models`` then fails. From a
source checkout DRN is there (and imports torchvision).

Work-around: when the installed MMAction2 imports ``.drn`` but has no such
folder, stand-in modules for ``mmaction.models.localizers.drn`` and
``.drn.drn`` go into ``sys.modules`` before the first ``import
mmaction.models``. Their ``DRN`` (registered as MMAction2's ``DRN``, so a
config that names it finds it) raises an error naming the bug when built;
nothing else of MMAction2 changes. Remove this module when a2mm no longer
supports a wheel with the bug (a fixed wheel has the folder, and nothing is
installed).
"""
import importlib.util
import os.path as osp
import sys
import types
from typing import Optional

__all__ = ['DRN_MODULES', 'install_drn_stand_in', 'drn_is_missing']

DRN_MODULES = ('mmaction.models.localizers.drn',
               'mmaction.models.localizers.drn.drn')
_UPSTREAM = ('MMAction2 {version}\'s PyPI wheel lacks the '
             'mmaction/models/localizers/drn package '
             '(open-mmlab/mmaction2#2714), so a2mm stood in for it and DRN '
             'cannot be built. To use DRN, install MMAction2 from source '
             '(git clone -b v{version} https://github.com/open-mmlab/'
             'mmaction2 && pip install -e mmaction2).')


def drn_is_missing(mmaction_dir: Optional[str] = None) -> bool:
    """Whether the MMAction2 in ``mmaction_dir`` (default: the installed
    one, found without importing it) imports a ``localizers/drn`` package
    that is not there."""
    if mmaction_dir is None:
        spec = importlib.util.find_spec('mmaction')
        if spec is None or spec.origin is None:
            return False
        mmaction_dir = osp.dirname(spec.origin)
    localizers = osp.join(mmaction_dir, 'models', 'localizers')
    init = osp.join(localizers, '__init__.py')
    if osp.isdir(osp.join(localizers, 'drn')) or not osp.isfile(init):
        return False
    with open(init, encoding='utf-8') as f:
        return 'from .drn' in f.read()


def _make_stand_in(version: str) -> type:
    message = _UPSTREAM.format(version=version)

    class DRN:
        """Stand-in for MMAction2's DRN localizer: building it raises
        (open-mmlab/mmaction2#2714)."""

        def __init__(self, *args, **kwargs) -> None:
            raise RuntimeError(message)

    DRN.__module__ = DRN_MODULES[1]
    return DRN


def install_drn_stand_in() -> bool:
    """Put the stand-ins into ``sys.modules`` if the installed MMAction2
    needs them and ``mmaction.models`` is not imported yet.

    Returns:
        bool: whether stand-ins are (now) in place.
    """
    if DRN_MODULES[1] in sys.modules:
        return getattr(sys.modules[DRN_MODULES[1]], '__a2mm_stand_in__',
                       False)
    if 'mmaction.models' in sys.modules or not drn_is_missing():
        return False
    import mmaction
    from mmaction.registry import MODELS

    package = types.ModuleType(DRN_MODULES[0], __doc__)
    package.__path__ = []  # a package with nothing else in it
    module = types.ModuleType(DRN_MODULES[1], __doc__)
    module.DRN = _make_stand_in(mmaction.__version__)
    package.drn = module
    for mod in (package, module):
        mod.__a2mm_stand_in__ = True
        sys.modules[mod.__name__] = mod
    MODELS.register_module(name='DRN', module=module.DRN)
    return True
