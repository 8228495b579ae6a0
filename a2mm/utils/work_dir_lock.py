"""One training run per work dir: :func:`lock_work_dir`.

Two ``tools/train.py`` runs on one work dir clobber each other: both write
``iter_N.pth`` and ``last_checkpoint`` (checkpoints of different seeds
interleave), and the second one's ``AtomicCheckpointHook.before_train``
removes the first one's ``.part`` file while it is being written. MMEngine
has no guard against this.

``lock_work_dir`` takes an exclusive ``fcntl.flock`` on
``<work_dir>/train.lock`` and keeps it for the life of the process (or until
:meth:`WorkDirLock.release`), and writes who holds it (pid, host, start time,
command line) into the file. A second run asking for the same work dir gets
:class:`WorkDirBusyError` naming the holder. The kernel drops a flock when
its holder dies, SIGKILL included, so the info a killed run leaves behind
is stale but blocks nothing: the next run takes the lock and overwrites it.
A clean exit empties the file.

- Only one process of a distributed run takes the lock (global rank 0,
  ``rank=``); the other ranks write checkpoints only through rank 0.
- DataLoader workers forked while the lock is held close their copy of the
  file descriptor, so that a killed main process does not leave the lock to
  its surviving workers.
- ``tools/test.py`` takes no lock: testing a checkpoint writes only its own
  timestamped log folder, so it may run beside a training run or after a
  killed one.
- Where ``fcntl`` is missing (Windows) or the file system refuses locks,
  training goes on unguarded after a warning.
"""
import atexit
import datetime
import json
import os
import os.path as osp
import socket
import sys
import warnings
from typing import Dict, Optional, Set

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

__all__ = ['LOCK_NAME', 'WorkDirBusyError', 'WorkDirLock', 'lock_work_dir',
           'launcher_rank']

LOCK_NAME = 'train.lock'

# rank variables by launcher (those MMEngine's init_dist reads)
_RANK_VARS = {'pytorch': 'RANK', 'slurm': 'SLURM_PROCID',
              'mpi': 'OMPI_COMM_WORLD_RANK'}

_held_fds: Set[int] = set()


def _close_in_child() -> None:
    for fd in _held_fds:
        os.close(fd)  # drops the child's reference, the parent keeps it
    _held_fds.clear()


if hasattr(os, 'register_at_fork'):
    os.register_at_fork(after_in_child=_close_in_child)


class WorkDirBusyError(RuntimeError):
    """Another live process holds the work dir's training lock."""


def launcher_rank(launcher: str) -> int:
    """The global rank of this process for a ``--launcher`` value, read
    from the launcher's environment before any process group exists
    (0 for ``'none'`` or when the variable is unset)."""
    name = _RANK_VARS.get(launcher)
    return int(os.environ.get(name, 0)) if name else 0


def _describe(raw: bytes) -> str:
    try:
        info = json.loads(raw.decode('utf-8'))
        return (f'pid {info["pid"]} on host {info["host"]}, started '
                f'{info["started"]}, command: {info["command"]}')
    except (ValueError, KeyError, TypeError):
        return 'a process that has not written its details yet'


class WorkDirLock:
    """The held lock of one work dir (see :func:`lock_work_dir`).

    Attributes:
        path (str): the lock file, ``<work_dir>/train.lock``.
        info (dict): what was written into it: ``pid``, ``host``,
            ``started`` (ISO time), ``command``.
    """

    def __init__(self, path: str, fd: int, info: Dict) -> None:
        self.path, self._fd, self.info = path, fd, info

    def release(self) -> None:
        """Empty the lock file and unlock it (idempotent). The file itself
        stays: removing it would let two runs lock different files."""
        if self._fd is None or os.getpid() != self.info['pid']:
            return  # released, or a forked child (its copy is closed)
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        _held_fds.discard(self._fd)
        self._fd = None

    def __enter__(self) -> 'WorkDirLock':
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def lock_work_dir(work_dir: str, *, rank: int = 0) -> Optional[WorkDirLock]:
    """Take the training lock of ``work_dir`` (created if missing) for the
    life of this process.

    Args:
        work_dir (str): the run's work dir.
        rank (int): the global rank; only rank 0 locks. Default: 0.

    Returns:
        WorkDirLock | None: the held lock (released at exit, or by its
        ``release()``); None on ranks other than 0 and where locking is not
        available.

    Raises:
        WorkDirBusyError: a live process holds the lock; the message names
            it (pid, host, start time, command) and the lock file.
    """
    if rank != 0:
        return None
    path = osp.join(osp.abspath(work_dir), LOCK_NAME)
    if fcntl is None:
        warnings.warn(f'{path}: no fcntl on this system, so nothing stops '
                      'a second run on this work dir')
        return None
    os.makedirs(osp.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _describe(os.pread(fd, 1 << 16, 0))
        os.close(fd)
        raise WorkDirBusyError(
            f'work dir {osp.dirname(path)} is in use by another training '
            f'run: {holder} (lock file {path}). Wait for that run to end or '
            'stop it, or give this run another --work-dir.') from None
    except OSError as e:  # e.g. ENOLCK on a file system without locks
        os.close(fd)
        warnings.warn(f'{path}: cannot lock ({e}), so nothing stops a '
                      'second run on this work dir')
        return None
    info = dict(
        pid=os.getpid(),
        host=socket.gethostname(),
        started=datetime.datetime.now().isoformat(timespec='seconds'),
        command=' '.join([osp.basename(sys.executable)] + sys.argv))
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(info).encode('utf-8'), 0)
    _held_fds.add(fd)
    lock = WorkDirLock(path, fd, info)
    atexit.register(lock.release)
    return lock
