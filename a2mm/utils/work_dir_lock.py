"""One training run per work dir: :func:`lock_work_dir`.

Two ``tools/train.py`` runs on one work dir clobber each other: both write
``iter_N.pth`` and ``last_checkpoint`` (checkpoints of different seeds
interleave), and the second one's ``AtomicCheckpointHook.before_train``
removes the first one's ``.part`` file while it is being written. MMEngine
has no guard against this.

``lock_work_dir`` takes an exclusive ``fcntl.flock`` on the work dir
itself (a descriptor of the directory) and keeps it for the life of the
process (or until :meth:`WorkDirLock.release`). Locking the directory, not
a file in it, means that deleting a file cannot free the lock: the lock of
a file removed during a run would stay with that run while a second run
created and locked a new file of the same name, and went on to overwrite
the first run's checkpoints. Who holds the lock (pid, host, start time,
command line) is written into ``<work_dir>/train.lock``, which is opened
without following a symbolic link and must be a regular file: a
``train.lock`` that is a link (it would make the run overwrite the file it
points to), a directory, a pipe or a device is refused with
:class:`LockFileError` naming it. A second run asking for the same work
dir gets :class:`WorkDirBusyError` naming the holder. The kernel drops a
flock when its holder dies, SIGKILL included, so the info a killed run
leaves behind is stale but blocks nothing: the next run takes the lock and
overwrites it. A clean exit empties the file.

- Only one process of a distributed run takes the lock (global rank 0,
  ``rank=``); the other ranks write checkpoints only through rank 0.
- DataLoader workers forked while the lock is held close their copy of the
  file descriptor, so that a killed main process does not leave the lock to
  its surviving workers.
- ``tools/test.py`` takes no lock: testing a checkpoint writes only its own
  timestamped log folder, so it may run beside a training run or after a
  killed one.
- Where the file system refuses to lock a directory (NFS emulates flock
  with byte-range locks, which need a file open for writing), the lock is
  taken on ``train.lock`` instead, and a warning says that deleting that
  file would let a second run in.
- Where ``fcntl`` is missing (Windows) or the file system refuses locks,
  training goes on unguarded after a warning.
"""
import atexit
import datetime
import json
import os
import os.path as osp
import socket
import stat
import sys
import warnings
from typing import Dict, Optional, Set, Tuple

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

__all__ = ['LOCK_NAME', 'LockFileError', 'WorkDirBusyError', 'WorkDirLock',
           'lock_work_dir', 'launcher_rank']

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


class LockFileError(RuntimeError):
    """``<work_dir>/train.lock`` is not a regular file (a symbolic link, a
    directory, a pipe, a device); the message names it."""


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


def _open_lock_file(path: str, dir_fd: int, create: bool = True) -> int:
    """Open (create) ``path`` for reading and writing, never through a
    symbolic link and never blocking (a pipe); refuse anything but a
    regular file."""
    flags = (os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK
             | getattr(os, 'O_CLOEXEC', 0) | (os.O_CREAT if create else 0))
    try:
        fd = os.open(LOCK_NAME, flags, 0o644, dir_fd=dir_fd)
    except OSError as e:
        kind = ('a symbolic link' if osp.islink(path) else
                'a directory' if osp.isdir(path) else f'unusable ({e})')
        raise LockFileError(
            f'the lock file {path} is {kind}: a2mm writes the training '
            'lock only into a regular file of the work dir. Remove it '
            '(it holds nothing of a run) and start again.') from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise LockFileError(
            f'the lock file {path} is not a regular file (a pipe, socket '
            'or device): remove it and start again.')
    return fd


def _holder(path: str, dir_fd: int) -> str:
    """Who holds the lock, from the lock file (never through a link)."""
    try:
        fd = _open_lock_file(path, dir_fd, create=False)
    except LockFileError:
        return 'a process whose details cannot be read'
    try:
        return _describe(os.pread(fd, 1 << 16, 0))
    finally:
        os.close(fd)


class WorkDirLock:
    """The held lock of one work dir (see :func:`lock_work_dir`).

    Attributes:
        path (str): the lock file, ``<work_dir>/train.lock``.
        info (dict): what was written into it: ``pid``, ``host``,
            ``started`` (ISO time), ``command``.
    """

    def __init__(self, path: str, fds: Tuple[int, int], info: Dict) -> None:
        self.path, self._fds, self.info = path, fds, info

    def release(self) -> None:
        """Empty the lock file and unlock (idempotent). The file itself
        stays, so that the next run finds a regular file."""
        if self._fds is None or os.getpid() != self.info['pid']:
            return  # released, or a forked child (its copy is closed)
        locked, file_fd = self._fds
        os.ftruncate(file_fd, 0)
        fcntl.flock(locked, fcntl.LOCK_UN)
        for fd in set(self._fds):
            os.close(fd)
            _held_fds.discard(fd)
        self._fds = None

    def __enter__(self) -> 'WorkDirLock':
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _busy(work_dir: str, path: str, dir_fd: int) -> WorkDirBusyError:
    return WorkDirBusyError(
        f'work dir {work_dir} is in use by another training run: '
        f'{_holder(path, dir_fd)} (lock file {path}). Wait for that run to '
        'end or stop it, or give this run another --work-dir.')


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
        LockFileError: ``train.lock`` is a symbolic link, a directory or
            another non-regular file; the message names it.
    """
    if rank != 0:
        return None
    work_dir = osp.abspath(work_dir)
    path = osp.join(work_dir, LOCK_NAME)
    if fcntl is None:
        warnings.warn(f'{path}: no fcntl on this system, so nothing stops '
                      'a second run on this work dir')
        return None
    os.makedirs(work_dir, exist_ok=True)
    dir_fd = os.open(work_dir, os.O_RDONLY | os.O_DIRECTORY
                     | getattr(os, 'O_CLOEXEC', 0))
    try:
        locked = _lock(dir_fd, work_dir, path)
        file_fd = locked if locked != dir_fd else _open_lock_file(
            path, dir_fd)
    except BaseException:
        os.close(dir_fd)
        raise
    if locked is None:
        os.close(dir_fd)
        return None
    fds = (locked, file_fd)
    info = dict(
        pid=os.getpid(),
        host=socket.gethostname(),
        started=datetime.datetime.now().isoformat(timespec='seconds'),
        command=' '.join([osp.basename(sys.executable)] + sys.argv))
    os.ftruncate(file_fd, 0)
    os.pwrite(file_fd, json.dumps(info).encode('utf-8'), 0)
    if dir_fd not in fds:
        os.close(dir_fd)
    _held_fds.update(fds)
    lock = WorkDirLock(path, fds, info)
    atexit.register(lock.release)
    return lock


def _lock(dir_fd: int, work_dir: str, path: str) -> Optional[int]:
    """Lock the work dir (or, where its file system cannot lock a
    directory, the lock file); return the locked descriptor, None where
    nothing can be locked."""
    try:
        fcntl.flock(dir_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return dir_fd
    except BlockingIOError:
        raise _busy(work_dir, path, dir_fd) from None
    except OSError:
        pass
    file_fd = _open_lock_file(path, dir_fd)
    try:
        fcntl.flock(file_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(file_fd)
        raise _busy(work_dir, path, dir_fd) from None
    except OSError as e:  # e.g. ENOLCK on a file system without locks
        os.close(file_fd)
        warnings.warn(f'{path}: cannot lock ({e}), so nothing stops a '
                      'second run on this work dir')
        return None
    warnings.warn(f'{work_dir}: its file system cannot lock a directory, '
                  f'so the lock is on {path}: deleting that file during '
                  'the run would let a second run in')
    return file_fd
