"""--deterministic on CUDA: cuBLAS workspace set before the runner, and
warn-only determinism after it; nothing changes on the CPU."""
import os

import pytest
import torch
from mmengine.config import Config

from a2mm.utils.determinism import (CUBLAS_WORKSPACE,
                                    prepare_cuda_determinism,
                                    relax_cuda_determinism)


@pytest.fixture
def restore_determinism():
    state = (torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled())
    yield
    torch.use_deterministic_algorithms(state[0], warn_only=state[1])


def cfg(deterministic):
    return Config(dict(randomness=dict(seed=0, deterministic=deterministic)))


def test_cuda_deterministic_sets_cublas_and_warn_only(monkeypatch,
                                                       restore_determinism):
    monkeypatch.delenv('CUBLAS_WORKSPACE_CONFIG', raising=False)
    assert prepare_cuda_determinism(cfg(True), cuda=True)
    assert os.environ['CUBLAS_WORKSPACE_CONFIG'] == CUBLAS_WORKSPACE
    torch.use_deterministic_algorithms(True)  # what the runner does
    assert relax_cuda_determinism(cfg(True), cuda=True)
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.is_deterministic_algorithms_warn_only_enabled()


def test_user_cublas_setting_is_kept(monkeypatch):
    monkeypatch.setenv('CUBLAS_WORKSPACE_CONFIG', ':16:8')
    prepare_cuda_determinism(cfg(True), cuda=True)
    assert os.environ['CUBLAS_WORKSPACE_CONFIG'] == ':16:8'


@pytest.mark.parametrize('deterministic,cuda', [(True, False),
                                                (False, True)])
def test_nothing_changes_otherwise(monkeypatch, restore_determinism,
                                   deterministic, cuda):
    monkeypatch.delenv('CUBLAS_WORKSPACE_CONFIG', raising=False)
    torch.use_deterministic_algorithms(True)
    assert not prepare_cuda_determinism(cfg(deterministic), cuda=cuda)
    assert not relax_cuda_determinism(cfg(deterministic), cuda=cuda)
    assert 'CUBLAS_WORKSPACE_CONFIG' not in os.environ
    assert not torch.is_deterministic_algorithms_warn_only_enabled()


def test_config_without_randomness():
    assert not prepare_cuda_determinism(Config(dict()), cuda=True)
