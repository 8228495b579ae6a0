"""The scripts under ``tools/``, from the tests: loaded as modules (they are
not a package) or run as subprocesses with this checkout's a2mm."""
import importlib.util
import os
import os.path as osp
import subprocess
import sys
from subprocess import CompletedProcess
from types import ModuleType
from typing import Dict, List, Optional, Union

#: the repository root
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool(relpath: str) -> ModuleType:
    """Import a script under ``tools/`` as a module, e.g.
    ``load_tool('tools/data/check_videos.py')``; each call loads it anew."""
    path = osp.join(REPO, relpath)
    name = 'tool_' + osp.splitext(relpath)[0].replace('/', '_')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tool_env(**extra: str) -> Dict[str, str]:
    """The environment for a tool run as a subprocess: the repository first
    on PYTHONPATH, ahead of what the caller's PYTHONPATH already holds."""
    path = os.pathsep.join(
        p for p in (REPO, os.environ.get('PYTHONPATH')) if p)
    return dict(os.environ, PYTHONPATH=path, **extra)


def run_tool(args: List[str], cwd: Optional[str] = None,
             timeout: int = 300, expect: Optional[int] = 0,
             checkout: bool = True) -> Union[str, CompletedProcess]:
    """Run ``python <args>`` (or another executable) from the repository
    with one OpenMP thread; stdout and stderr together.

    Args:
        expect: the exit status the run must end with (else an
            ``AssertionError`` with the output); then the output is
            returned. ``None``: the finished process is returned, whatever
            its status, its output in ``.stdout``.
        checkout: put this checkout's a2mm first on ``PYTHONPATH``
            (:func:`tool_env`); False runs without any ``PYTHONPATH``, so
            the installed a2mm is imported (e.g. from a wheel).
    """
    if checkout:
        env = tool_env(OMP_NUM_THREADS='1')
    else:
        env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
        env['OMP_NUM_THREADS'] = '1'
    cmd = [str(a) for a in args]
    if cmd[0] == 'python':
        cmd[0] = sys.executable
    proc = subprocess.run(cmd, cwd=cwd or REPO, env=env, timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    if expect is None:
        return proc
    if proc.returncode != expect:
        raise AssertionError(f'{" ".join(cmd)} exited with '
                             f'{proc.returncode}, not {expect}:\n'
                             f'{proc.stdout[-6000:]}')
    return proc.stdout
