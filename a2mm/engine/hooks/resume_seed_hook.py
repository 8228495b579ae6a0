"""``ResumeSeedHook``: make a resumed run draw the same random numbers as an
uninterrupted one, whatever the DataLoader workers.

MMEngine's resume restores weights, optimizer, schedulers, the iteration
counter and the seed, and the ``DefaultSampler`` shuffles each epoch from
``seed + epoch``; but two kinds of random state are not restored:

* the global generators of the main process (``random``, ``numpy``,
  ``torch``: dropout masks, mixup/cutmix in the data preprocessor, the base
  seed PyTorch draws each time it builds a DataLoader iterator) start again
  from the seed instead of where the killed run was;
* the generators the data pipeline draws from (``SampleFrames`` offsets,
  ``RandomCrop`` positions): in the main process with ``num_workers=0``,
  where they are the same global generators; in persistent workers
  (``persistent_workers=True``), which MMEngine's ``worker_init_fn`` seeds
  once and whose generators then run on across epochs, so a resumed run's
  fresh workers start epoch k where the first run started epoch 1. Only
  workers rebuilt every epoch from the same seed replayed exactly.

Saving the generator states in the checkpoint would not be enough (a
DataLoader iterator built on resume draws from them, at a moment the
uninterrupted run did not; worker states live in other processes). Instead
this hook makes every draw a function of where it happens:

* before every training iteration it re-seeds the three main-process
  generators from ``(seed, iteration)``;
* in ``before_train`` it makes the training DataLoader seed the three
  generators before every sample, in whichever process loads it, from
  ``(seed, rank, epoch, position of the sample in the epoch)``: the
  sampler's indices carry that seed (:class:`SeededIndex`) and the
  dataset's ``__getitems__``, which PyTorch's fetcher calls with a batch's
  indices, applies it. Sample i of epoch e is then cropped the same way for
  any ``num_workers``, ``persistent_workers`` or resume point.

It also gives the sampler the run's seed back: MMEngine builds the
training sampler before ``resume`` restores the checkpoint's seed, so a run
without ``--seed`` would otherwise shuffle differently after a resume.

When resuming, it also checks the checkpoint's training state (message
hub, optimizer, schedulers) before ``Runner.resume`` applies it
(:func:`a2mm.utils.checkpoint.resume_state.check_resume_state`): a value
that would fail after training has begun (``lr='fast'``, a crafted
``HistoryBuffer``) is refused with ``ResumeStateError`` naming the
checkpoint and the key.

This covers PyTorch's standard batching (a ``batch_size``, no
``batch_sampler`` in the config) over a dataset without its own
``__getitems__``; elsewhere the hook warns and seeds only the iterations.
An ``IterBasedTrainLoop`` starts its first DataLoader iterator before any
hook runs: with workers, that first pass is replayed exactly on resume (the
loop fetches the trained batches again and skips them), and the samples of
later passes are seeded. With ``diff_rank_seed=True`` MMEngine gives the
sampler a fresh random seed in every run, so the data order of a resumed
run differs; that setting is not covered.
"""
import random

import numpy as np
import torch
from mmaction.registry import HOOKS
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.runner import find_latest_checkpoint
from torch.utils.data import BatchSampler

from a2mm.utils.checkpoint.resume_state import check_resume_state

__all__ = ['ResumeSeedHook', 'SeededIndex', 'iteration_seed', 'sample_seed']

# keeps sample seeds apart from iteration seeds of the same numbers
_SAMPLE_STREAM = 1


def iteration_seed(seed: int, iteration: int) -> int:
    """A well-mixed 32-bit seed for ``iteration`` of a run seeded ``seed``."""
    return int(np.random.SeedSequence([seed % 2**32, iteration])
               .generate_state(1)[0])


def sample_seed(seed: int, *, rank: int, epoch: int, position: int) -> int:
    """A well-mixed 32-bit seed for the sample at ``position`` of ``epoch``
    on ``rank`` in a run seeded ``seed``."""
    return int(np.random.SeedSequence(
        [seed % 2**32, rank, epoch, position, _SAMPLE_STREAM])
        .generate_state(1)[0])


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds every CUDA device too


class SeededIndex(int):
    """A dataset index that carries the seed of its sample's random draws
    (it still is that index wherever an ``int`` is expected)."""

    def __new__(cls, index: int, seed: int) -> 'SeededIndex':
        obj = super().__new__(cls, index)
        obj.seed = seed
        return obj

    def __reduce__(self):  # to the worker processes
        return SeededIndex, (int(self), self.seed)


class _SeedingSampler:
    """Yields the indices of ``sampler`` as :class:`SeededIndex`; the epoch
    is the one ``DistSamplerSeedHook`` set on ``sampler``."""

    def __init__(self, sampler, seed: int, rank: int) -> None:
        self.sampler, self.seed, self.rank = sampler, seed, rank

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self):
        epoch = getattr(self.sampler, 'epoch', 0)
        for position, index in enumerate(self.sampler):
            yield SeededIndex(index, sample_seed(
                self.seed, rank=self.rank, epoch=epoch, position=position))


class _SeededGetItems:
    """``dataset.__getitems__``: seed the generators before each sample."""

    def __init__(self, dataset) -> None:
        self.dataset = dataset

    def __call__(self, indices: list) -> list:
        samples = []
        for index in indices:
            if isinstance(index, SeededIndex):
                _seed_all(index.seed)
                index = int(index)
            samples.append(self.dataset[index])
        return samples


@HOOKS.register_module()
class ResumeSeedHook(Hook):
    """Re-seed ``random``, ``numpy`` and ``torch`` (all devices) from
    ``(runner.seed, runner.iter)`` before every training iteration, and
    from ``(runner.seed, rank, epoch, position)`` before every training
    sample is loaded (see the module docstring).

    ``runner.seed`` is the seed of ``randomness`` (``--seed``), or the one
    MMEngine drew and stored in the checkpoint, which ``resume`` restores;
    with ``diff_rank_seed=True`` it already differs per rank. The priority
    is ``LOWEST`` so that no other ``before_train_iter`` hook draws after it.
    """

    priority = 'LOWEST'

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not runner._resume or not isinstance(checkpoint, dict):
            return  # load_from: only the weights are used
        source = runner._load_from or find_latest_checkpoint(
            runner.work_dir) or 'the latest checkpoint'
        check_resume_state(checkpoint, source=source,
                           optim_wrapper=runner.optim_wrapper,
                           param_schedulers=runner.param_schedulers)

    def before_train(self, runner) -> None:
        loader = runner.train_loop.dataloader
        batches = getattr(loader, 'batch_sampler', None)
        if isinstance(getattr(batches, 'sampler', None), _SeedingSampler):
            return  # already seeding (a second runner.train())
        sampler = getattr(loader, 'sampler', None)
        # MMEngine built the sampler with the seed drawn before resume
        # restored the checkpoint's (Runner.train: build_train_loop, then
        # load_or_resume); a sampler seeded by the config keeps its seed
        sampler_cfg = (runner.cfg.get('train_dataloader') or {}).get(
            'sampler')
        randomness = runner.cfg.get('randomness') or {}
        if (hasattr(sampler, 'seed') and isinstance(sampler_cfg, dict)
                and sampler_cfg.get('seed') is None
                and not randomness.get('diff_rank_seed', False)):
            sampler.seed = runner.seed
        dataset = getattr(loader, 'dataset', None)
        if (type(batches) is not BatchSampler or batches.sampler is not sampler
                or dataset is None or hasattr(dataset, '__getitems__')):
            runner.logger.warning(
                'ResumeSeedHook: the training DataLoader has its own batch '
                'sampler or its dataset its own __getitems__, so the data '
                "pipeline's random draws are not seeded per sample: a "
                'resumed run is exact only with num_workers >= 1 and '
                'persistent_workers=False')
            return
        batches.sampler = _SeedingSampler(sampler, runner.seed, get_rank())
        # an instance attribute: PyTorch's _MapDatasetFetcher looks it up
        # with hasattr and calls it with the batch's indices
        dataset.__getitems__ = _SeededGetItems(dataset)

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        _seed_all(iteration_seed(runner.seed, runner.iter))
