"""Console entry points: run a2mm's shipped tools from anywhere.

``a2mm-train CONFIG ...`` and ``a2mm-test CONFIG CHECKPOINT ...`` take the
flags of ``tools/train.py`` and ``tools/test.py``; ``a2mm-tool PATH ...``
runs any other shipped tool by its path under ``tools/`` (e.g.
``a2mm-tool analysis/get_flops.py CONFIG``). ``python -m a2mm.cli train
...`` is the same as ``a2mm-train`` (and works under ``torchrun``). The
scripts come from ``a2mm/.mim/tools`` (see :mod:`a2mm.mim`), so a config in
the user's own folder with ``_base_ = ['a2mm::a2_r50_kinetics.py']`` trains
after a plain ``pip install``.
"""
import os.path as osp
import runpy
import sys
from typing import List, Optional

from .mim import shipped_dir

__all__ = ['run_tool', 'train', 'test', 'tool']


def run_tool(relpath: str, argv: List[str]) -> None:
    """Run ``tools/<relpath>`` as ``__main__`` with ``argv`` as its
    arguments (``sys.argv`` is restored afterwards).

    Raises:
        FileNotFoundError: no such tool (names the folder it looked in).
    """
    tools = shipped_dir('tools')
    script = osp.normpath(osp.join(tools, relpath))
    if not script.startswith(tools + osp.sep) or not osp.isfile(script) \
            or not script.endswith('.py'):
        raise FileNotFoundError(
            f'no a2mm tool {relpath!r} in {tools} (a .py file under it, '
            'e.g. analysis/get_flops.py)')
    saved = sys.argv
    sys.argv = [script] + list(argv)
    try:
        runpy.run_path(script, run_name='__main__')
    finally:
        sys.argv = saved


def train(argv: Optional[List[str]] = None) -> None:
    """``a2mm-train``: ``tools/train.py``."""
    run_tool('train.py', sys.argv[1:] if argv is None else argv)


def test(argv: Optional[List[str]] = None) -> None:
    """``a2mm-test``: ``tools/test.py``."""
    run_tool('test.py', sys.argv[1:] if argv is None else argv)


def tool(argv: Optional[List[str]] = None) -> None:
    """``a2mm-tool PATH [args]``: any shipped tool, by its path under
    ``tools/``."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ('-h', '--help'):
        print('usage: a2mm-tool PATH [args ...]   (PATH under '
              f'{shipped_dir("tools")}, e.g. analysis/get_flops.py)')
        sys.exit(0 if argv else 2)
    run_tool(argv[0], argv[1:])


_COMMANDS = {'train': train, 'test': test, 'tool': tool}

if __name__ == '__main__':
    if len(sys.argv) < 2 or sys.argv[1] not in _COMMANDS:
        sys.exit(f'usage: python -m a2mm.cli {{{",".join(_COMMANDS)}}} ...')
    _COMMANDS[sys.argv[1]](sys.argv[2:])
