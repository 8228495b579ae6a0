"""``ResumeSeedHook``: make a resumed run draw the same random numbers as an
uninterrupted one.

MMEngine's resume restores weights, optimizer, schedulers, the iteration
counter and the seed, and (in ``IterBasedTrainLoop``) replays the data
order; but the global random generators of the main process (``random``,
``numpy``, ``torch``: dropout masks, mixup/cutmix in the data
preprocessor, the base seed PyTorch draws each time it builds a
DataLoader iterator) start again from the seed instead of where the
killed run was. The resumed run then trains on different dropout masks and
its final weights differ.

Saving the generator states in the checkpoint would not be enough (a
DataLoader iterator built on resume draws from them, at a moment the
uninterrupted run did not), and would add pickled objects to the
checkpoint's allow-list. Instead this hook re-seeds the three generators at
the start of every training iteration from ``(seed, iteration)``, so that
iteration i draws the same numbers whether or not the run was killed
before it. The data pipeline's randomness lives in the DataLoader workers,
which MMEngine seeds from the same seed, and is replayed by the loop's
skipping of already-trained batches (``num_workers >= 1``; with
``num_workers=0`` the augmentations share the main-process generators, and
exact resume holds only for pipelines without random transforms).
"""
import random

import numpy as np
import torch
from mmaction.registry import HOOKS
from mmengine.hooks import Hook

__all__ = ['ResumeSeedHook', 'iteration_seed']


def iteration_seed(seed: int, iteration: int) -> int:
    """A well-mixed 32-bit seed for ``iteration`` of a run seeded ``seed``."""
    return int(np.random.SeedSequence([seed % 2**32, iteration])
               .generate_state(1)[0])


@HOOKS.register_module()
class ResumeSeedHook(Hook):
    """Re-seed ``random``, ``numpy`` and ``torch`` (all devices) from
    ``(runner.seed, runner.iter)`` before every training iteration.

    ``runner.seed`` is the seed of ``randomness`` (``--seed``), or the one
    MMEngine drew and stored in the checkpoint, which ``resume`` restores;
    with ``diff_rank_seed=True`` it already differs per rank. The priority
    is ``LOWEST`` so that no other ``before_train_iter`` hook draws after it.
    """

    priority = 'LOWEST'

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        seed = iteration_seed(runner.seed, runner.iter)
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)  # seeds every CUDA device too
