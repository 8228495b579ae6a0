"""Import-time check of the OpenMMLab stack a2mm is tested on.

setup.py does not install mmcv (a user has either ``mmcv-lite`` or the full
``mmcv`` with compiled ops, and installing one writes over the other's
``mmcv/`` folder), and it declares ranges, not pins. So, like
``mmaction/__init__.py``, a2mm checks the versions it finds when imported
and names the fix. The exact tested set is ``requirements/constraints.txt``.
"""
import importlib.metadata as metadata
from typing import Dict, Mapping, Optional, Tuple

from packaging.version import InvalidVersion, Version

__all__ = ['SUPPORTED', 'check_dependencies', 'find_problems']

# module -> (lowest supported, first unsupported, the command that fixes it)
SUPPORTED: Dict[str, Tuple[str, str, str]] = {
    'mmengine': ('0.10.0', '0.11.0', 'pip install "mmengine>=0.10.0,<0.11"'),
    'mmcv': ('2.0.0', '2.2.0',
             'pip install "mmcv-lite>=2.0.0,<2.2.0" (no compiled ops) or '
             'mim install "mmcv>=2.0.0,<2.2.0" (compiled ops)'),
    'mmaction': ('1.1.0', '1.3.0', 'pip install "mmaction2>=1.1.0,<1.3"'),
}

# the distributions that provide each module, for the message
_DISTRIBUTIONS = {
    'mmengine': ('mmengine', ),
    'mmcv': ('mmcv', 'mmcv-lite', 'mmcv-full'),
    'mmaction': ('mmaction2', ),
}


def _distribution(module: str) -> Optional[str]:
    for name in _DISTRIBUTIONS[module]:
        try:
            return f'{name} {metadata.version(name)}'
        except metadata.PackageNotFoundError:
            continue
    return None


def find_problems(versions: Mapping[str, Optional[str]]) -> Dict[str, str]:
    """What is wrong with ``versions`` (module -> ``__version__``, or None
    when the module is not importable).

    Returns:
        dict: module -> one line naming what was found and the fix; empty
        when every module is in :data:`SUPPORTED`'s range.
    """
    problems = {}
    for module, (low, high, fix) in SUPPORTED.items():
        found = versions.get(module)
        if found is None:
            problems[module] = f'{module} is not installed; fix: {fix}'
            continue
        try:
            ok = Version(low) <= Version(found) < Version(high)
        except InvalidVersion:
            ok = False
        if not ok:
            problems[module] = (
                f'{module} {found} is installed, a2mm supports >={low}, '
                f'<{high}; fix: {fix}')
    return problems


def _installed_versions() -> Dict[str, Optional[str]]:
    versions: Dict[str, Optional[str]] = {}
    for module in SUPPORTED:
        try:
            # mmengine and mmcv first: mmaction/__init__.py asserts on them
            versions[module] = __import__(module).__version__
        except ImportError:
            versions[module] = None
        if versions[module] is None or find_problems(
                {module: versions[module]}).get(module):
            break
    return versions


def check_dependencies() -> None:
    """Raise ``ImportError`` naming every out-of-range mmengine, mmcv or
    MMAction2 (the installed distribution and version) and the command that
    installs a supported one, e.g. ``pip install "mmengine>=0.10.0,<0.11"``.
    Only the first module out of range is named: importing the next one
    (``mmaction`` asserts on mmcv's version) could fail on it.
    """
    versions = _installed_versions()
    problems = {
        module: problem
        for module, problem in find_problems(versions).items()
        if module in versions
    }
    if problems:
        lines = []
        for module, problem in problems.items():
            dist = _distribution(module)
            lines.append(f'  {problem}' +
                         (f' (distribution: {dist})' if dist else ''))
        raise ImportError(
            'a2mm cannot run on this OpenMMLab stack:\n' + '\n'.join(lines) +
            '\nThe tested set: pip install -c requirements/constraints.txt '
            '(in a2mm\'s repository).')
