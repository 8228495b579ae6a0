"""``ResumeSeedHook`` seeds every training sample from (seed, rank, epoch,
position): the data pipeline's draws of an epoch are the same in the main
process, in persistent workers that have run earlier epochs, and in the
fresh DataLoader of a resumed run (the end-to-end kill-and-resume runs are
in tests/tools/test_faults.py)."""
import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import DefaultSampler
from torch.utils.data import DataLoader, Dataset

from a2mm.engine.hooks.resume_seed_hook import ResumeSeedHook


class Draws(Dataset):
    """Sample i is i and one draw of each generator a pipeline uses."""

    def __len__(self) -> int:
        return 7

    def __getitem__(self, i: int) -> tuple:
        return (int(i), int(np.random.randint(1 << 30)), random.random(),
                float(torch.rand(())))


class Logger:

    def __init__(self) -> None:
        self.warnings = []

    def warning(self, message: str) -> None:
        self.warnings.append(message)


def runner_for(loader, seed: int = 5) -> SimpleNamespace:
    cfg = Config(dict(train_dataloader=dict(
        sampler=dict(type='DefaultSampler', shuffle=True))))
    return SimpleNamespace(train_loop=SimpleNamespace(dataloader=loader),
                           cfg=cfg, seed=seed, logger=Logger())


def epochs_of_draws(first: int, last: int, **loader_args) -> dict:
    """{epoch: the epoch's samples} of a DataLoader built at ``first`` (a
    resumed run builds a fresh one), seeded by the hook."""
    sampler = DefaultSampler(Draws(), shuffle=True, seed=99)  # MMEngine's
    loader = DataLoader(sampler.dataset, batch_size=3, sampler=sampler,
                        collate_fn=list, **loader_args)
    runner = runner_for(loader)
    ResumeSeedHook().before_train(runner)
    assert sampler.seed == 5 and not runner.logger.warnings
    draws = {}
    for epoch in range(first, last + 1):
        sampler.set_epoch(epoch)  # as DistSamplerSeedHook does
        draws[epoch] = [sample for batch in loader for sample in batch]
    return draws


@pytest.mark.parametrize('loader_args', [
    dict(num_workers=0),
    dict(num_workers=2, persistent_workers=True),
    dict(num_workers=1, persistent_workers=False),
], ids=['main_process', 'persistent_workers', 'fresh_workers'])
def test_epoch_draws_do_not_depend_on_workers_or_resume(loader_args):
    uninterrupted = epochs_of_draws(0, 2, **loader_args)
    resumed = epochs_of_draws(2, 2, **loader_args)
    assert resumed[2] == uninterrupted[2]
    assert epochs_of_draws(0, 2, num_workers=0) == uninterrupted
    # each epoch shuffles and draws anew
    assert sorted(s[0] for s in uninterrupted[1]) == list(range(7))
    assert [s[1:] for s in uninterrupted[1]] != [s[1:] for s in
                                                  uninterrupted[2]]


def test_own_batch_sampler_is_left_alone_with_a_warning():
    dataset = Draws()
    sampler = DefaultSampler(dataset, shuffle=True, seed=99)
    runner = runner_for(SimpleNamespace(  # a DataLoader's attributes
        batch_sampler=[[0, 1], [2, 3]], sampler=sampler, dataset=dataset))
    ResumeSeedHook().before_train(runner)
    assert 'not seeded per sample' in runner.logger.warnings[0]
    assert not hasattr(dataset, '__getitems__')
