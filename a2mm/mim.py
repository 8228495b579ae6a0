"""Where a2mm's shipped configs and tools are.

OpenMMLab's ``.mim`` convention (MMAction2's ``setup.py``): a wheel carries
``configs/`` and ``tools/`` inside the package as ``a2mm/.mim/configs`` and
``a2mm/.mim/tools`` (copies); an editable install links them to the
checkout's folders (setup.py's ``build_py``). Run from a checkout without
installing, the checkout's own ``configs/`` and ``tools/`` are used.
"""
import os.path as osp

__all__ = ['PACKAGE_DIR', 'shipped_dir']

PACKAGE_DIR = osp.dirname(osp.abspath(__file__))


def shipped_dir(kind: str) -> str:
    """The folder of a2mm's ``'configs'`` or ``'tools'``.

    Raises:
        ValueError: ``kind`` is neither.
        FileNotFoundError: a2mm was installed without them (names where it
            looked).
    """
    if kind not in ('configs', 'tools'):
        raise ValueError(f"kind must be 'configs' or 'tools', got {kind!r}")
    candidates = (osp.join(PACKAGE_DIR, '.mim', kind),
                  osp.join(osp.dirname(PACKAGE_DIR), kind))
    for candidate in candidates:
        if osp.isdir(candidate):
            return candidate
    raise FileNotFoundError(
        f'a2mm\'s {kind} are not installed: looked for ' +
        ' and '.join(candidates) + ' (reinstall a2mm from a wheel or a '
        'checkout: pip install a2mm, or pip install -e .)')
