"""a2mm.utils.dist: the process group a tool opens is closed in step."""
import pytest
import torch
import torch.distributed as torch_dist
from mmengine.config import Config

from a2mm.utils.dist import close_distributed, setup_cpu_distributed


def test_close_distributed_without_a_group_does_nothing():
    assert not torch_dist.is_initialized()
    assert close_distributed() is False


def test_close_distributed_closes_the_open_group(tmp_path):
    store = torch_dist.FileStore(str(tmp_path / 'store'), 1)
    torch_dist.init_process_group('gloo', store=store, rank=0, world_size=1)
    try:
        assert torch_dist.is_initialized()
        assert close_distributed() is True
        assert not torch_dist.is_initialized()
    finally:
        if torch_dist.is_initialized():  # leave no group to later tests
            torch_dist.destroy_process_group()


def test_setup_cpu_distributed_names_the_missing_torchrun_variables(
        monkeypatch):
    if torch.cuda.is_available():
        pytest.skip('about CPU-only machines')
    for name in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR',
                 'MASTER_PORT'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('RANK', '0')
    with pytest.raises(RuntimeError, match=r"'WORLD_SIZE'.*'MASTER_PORT'"):
        setup_cpu_distributed(Config(dict()), 'pytorch')
