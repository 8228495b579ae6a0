"""``lock_work_dir``: one training run per work dir, with real processes
(a second lock is refused and named; a SIGKILLed holder whose forked child
lives on blocks nothing)."""
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap

import pytest

from a2mm.utils.work_dir_lock import (LOCK_NAME, WorkDirBusyError,
                                      launcher_rank, lock_work_dir)


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


HOLDER = textwrap.dedent('''
    import os, sys, time
    from a2mm.utils.work_dir_lock import lock_work_dir
    lock_work_dir(sys.argv[1])
    child = os.fork()  # as a DataLoader worker is
    if child == 0:
        time.sleep(60)
        os._exit(0)
    print(child, flush=True)
    time.sleep(60)
''')


def test_killed_holder_with_live_child_does_not_block(tmp_path):
    work = str(tmp_path / 'work')
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    holder = subprocess.Popen([sys.executable, '-c', HOLDER, work], env=env,
                              stdout=subprocess.PIPE, text=True)
    child = int(holder.stdout.readline())
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


def test_launcher_rank(monkeypatch):
    monkeypatch.setenv('RANK', '3')
    monkeypatch.setenv('SLURM_PROCID', '5')
    assert launcher_rank('none') == 0
    assert launcher_rank('pytorch') == 3
    assert launcher_rank('slurm') == 5
    monkeypatch.delenv('RANK')
    assert launcher_rank('pytorch') == 0
