"""Moved to :mod:`a2mm.utils.work_dir_lock`; this alias keeps
``a2mm.engine.work_dir_lock`` working."""
from a2mm.utils.work_dir_lock import (LOCK_NAME,  # noqa: F401
                                      LockFileError, WorkDirBusyError,
                                      WorkDirLock, launcher_rank,
                                      lock_work_dir)

__all__ = ['LOCK_NAME', 'LockFileError', 'WorkDirBusyError', 'WorkDirLock',
           'lock_work_dir', 'launcher_rank']
