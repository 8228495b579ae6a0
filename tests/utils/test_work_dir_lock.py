"""``lock_work_dir``: one training run per work dir, with real processes
(a second lock is refused and named; a SIGKILLed holder whose forked child
lives on blocks nothing; deleting the lock file during a run lets no
second run in; a ``train.lock`` that is a link, a directory or a pipe is
refused by name and nothing it points to is written)."""
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap

import pytest

from a2mm.utils import work_dir_lock
from a2mm.utils.work_dir_lock import (LOCK_NAME, LockFileError,
                                      WorkDirBusyError, launcher_rank,
                                      lock_work_dir)


def test_second_lock_is_refused_and_names_the_holder(tmp_path):
    work = str(tmp_path / 'work')
    lock = lock_work_dir(work)
    with open(os.path.join(work, LOCK_NAME)) as f:
        info = json.load(f)
    assert info['pid'] == os.getpid() and info['host'] == socket.gethostname()
    assert 'pytest' in info['command'] or 'py' in info['command']
    with pytest.raises(WorkDirBusyError) as error:
        lock_work_dir(work)
    message = str(error.value)
    assert f'pid {os.getpid()} on host {socket.gethostname()}' in message
    assert info['started'] in message and LOCK_NAME in message
    assert lock_work_dir(work, rank=1) is None  # only rank 0 locks
    lock.release()
    assert os.path.getsize(os.path.join(work, LOCK_NAME)) == 0
    with lock_work_dir(work) as again:  # free after a release
        assert again.info['pid'] == os.getpid()


# the module alone (it needs only the standard library): starts in ms
HOLDER = textwrap.dedent('''
    import importlib.util, os, sys, time
    spec = importlib.util.spec_from_file_location('work_dir_lock',
                                                  sys.argv[2])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.lock_work_dir(sys.argv[1])
    ready, started = os.pipe()
    child = os.fork()  # as a DataLoader worker is
    if child == 0:
        # os.fork's at-fork handlers (closing the lock) ran before this
        os.write(started, b'1')
        time.sleep(60)
        os._exit(0)
    os.read(ready, 1)  # the child runs: its copy of the lock is closed
    print(child, flush=True)
    time.sleep(60)
''')


def test_killed_holder_with_live_child_does_not_block(tmp_path):
    work = str(tmp_path / 'work')
    holder, child = start_holder(work)
    try:
        with pytest.raises(WorkDirBusyError, match=f'pid {holder.pid} '):
            lock_work_dir(work)
        holder.send_signal(signal.SIGKILL)  # no cleanup runs
        holder.wait()
        os.kill(child, 0)  # the forked child still lives
        with open(os.path.join(work, LOCK_NAME)) as f:
            assert json.load(f)['pid'] == holder.pid  # stale info stays
        with lock_work_dir(work) as lock:  # ... but blocks nothing
            assert lock.info['pid'] == os.getpid()
    finally:
        os.kill(child, signal.SIGKILL)


def start_holder(work):
    """A process that takes the lock of ``work`` (and forks a child, as
    DataLoader workers are); returns (process, child pid)."""
    holder = subprocess.Popen(
        [sys.executable, '-c', HOLDER, work, work_dir_lock.__file__],
        stdout=subprocess.PIPE, text=True)
    return holder, int(holder.stdout.readline())


def test_deleted_lock_file_lets_no_second_run_in(tmp_path):
    work = str(tmp_path / 'work')
    holder, child = start_holder(work)
    try:
        os.remove(os.path.join(work, LOCK_NAME))  # e.g. a cleanup script
        with pytest.raises(WorkDirBusyError, match='in use by another'):
            lock_work_dir(work)
        assert not os.path.exists(os.path.join(work, LOCK_NAME))
        # a link put in its place is neither followed nor quoted
        secret = tmp_path / 'secret.json'
        secret.write_text('{"pid": 1, "host": "h", "started": "s", '
                          '"command": "SECRET"}')
        os.symlink(secret, os.path.join(work, LOCK_NAME))
        with pytest.raises(WorkDirBusyError) as error:
            lock_work_dir(work)
        assert 'SECRET' not in str(error.value)
        os.remove(os.path.join(work, LOCK_NAME))
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        with lock_work_dir(work) as lock:  # free once the holder is gone
            assert lock.info['pid'] == os.getpid()
    finally:
        holder.kill()
        os.kill(child, signal.SIGKILL)


def test_symlinked_lock_file_is_refused_and_its_target_kept(tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    victim = tmp_path / 'precious.txt'
    victim.write_text('keep me')
    (work / LOCK_NAME).symlink_to(victim)
    with pytest.raises(LockFileError) as error:
        lock_work_dir(str(work))
    assert str(work / LOCK_NAME) in str(error.value)
    assert 'symbolic link' in str(error.value)
    assert victim.read_text() == 'keep me'
    # the work dir is not left locked by the refused attempt
    (work / LOCK_NAME).unlink()
    lock_work_dir(str(work)).release()
    (work / LOCK_NAME).unlink()
    (work / LOCK_NAME).symlink_to(tmp_path / 'missing')  # dangling
    with pytest.raises(LockFileError, match='symbolic link'):
        lock_work_dir(str(work))
    assert not (tmp_path / 'missing').exists()


@pytest.mark.parametrize('kind', ['directory', 'pipe'])
def test_non_regular_lock_file_is_refused_by_name(tmp_path, kind):
    work = tmp_path / 'work'
    work.mkdir()
    if kind == 'directory':
        (work / LOCK_NAME).mkdir()
    else:
        os.mkfifo(work / LOCK_NAME)  # opened without blocking
    with pytest.raises(LockFileError) as error:
        lock_work_dir(str(work))
    assert str(work / LOCK_NAME) in str(error.value)
    assert ('directory' if kind == 'directory' else 'pipe') in \
        str(error.value)


def test_launcher_rank(monkeypatch):
    monkeypatch.setenv('RANK', '3')
    monkeypatch.setenv('SLURM_PROCID', '5')
    assert launcher_rank('none') == 0
    assert launcher_rank('pytorch') == 3
    assert launcher_rank('slurm') == 5
    monkeypatch.delenv('RANK')
    assert launcher_rank('pytorch') == 0
