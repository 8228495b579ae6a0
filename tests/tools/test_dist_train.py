"""`torchrun --nproc_per_node 2 tools/train.py ... --launcher pytorch` on a
machine without CUDA: the tools fall back to gloo by themselves."""
import os.path as osp
import re
import socket

import pytest
import torch

from tests.helpers.configs import write_tiny_config
from tests.helpers.tools import run_tool


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(),
                    reason='about CPU-only machines (the gloo fallback)')
def test_torchrun_two_processes_on_cpu(tmp_path):
    config = write_tiny_config(tmp_path, max_epochs=1)
    work_dir = str(tmp_path / 'work')
    log = run_tool([
        'python', '-m', 'torch.distributed.run', '--nproc_per_node', '2',
        '--master_port', str(_free_port()), 'tools/train.py', config,
        '--work-dir', work_dir, '--launcher', 'pytorch'
    ])
    assert re.search(r"backend='gloo'|backend: gloo|'backend': 'gloo'",
                     log), log[-3000:]
    assert 'Distributed launcher: pytorch' in log
    assert 'Distributed training: True' in log
    # 6 clips, 2 per process per step, 2 processes: 2 iterations per epoch
    assert 'Epoch(train) [1][2/2]' in log
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
