"""Distributed runs on machines without CUDA.

MMEngine 0.10.7 always calls ``torch.cuda.set_device(local_rank)`` in
``mmengine.dist.utils._init_dist_pytorch`` and wraps the model with
``device_ids=[LOCAL_RANK]``; both fail on a CPU-only PyTorch, and the
default ``dist_cfg.backend='nccl'`` needs CUDA anyway. Instead of patching
MMEngine, :func:`setup_cpu_distributed` adapts the *config* before the
runner is built: it selects the ``gloo`` backend, opens the process group
itself from the ``torchrun`` environment (``RANK``, ``WORLD_SIZE``,
``MASTER_ADDR``, ``MASTER_PORT``) so that the runner finds it already open,
and asks for a CPU ``MMDistributedDataParallel`` (``device_ids=None``).
Nothing changes when CUDA is available.

:func:`close_distributed` ends any distributed run, CPU or CUDA, in step:
MMEngine 0.10.7 never destroys the process group it opens, so the group is
torn down by each interpreter's exit, in no set order across processes. With
gloo, a process whose peer has already exited can then abort in a C++
destructor ("terminate called without an active exception") after a run that
finished, and the launcher reports the whole run as failed.
"""
import datetime
import os

import torch
import torch.distributed as torch_dist
from mmengine.config import Config

__all__ = ['setup_cpu_distributed', 'close_distributed']

_TORCHRUN_VARS = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR',
                  'MASTER_PORT')


def setup_cpu_distributed(cfg: Config, launcher: str) -> bool:
    """Prepare ``cfg`` for a distributed run on CPU, if that is what it is.

    Args:
        cfg (Config): the full config; ``env_cfg.dist_cfg`` and
            ``model_wrapper_cfg`` are updated in place.
        launcher (str): the ``--launcher`` of the tool: ``'none'``,
            ``'pytorch'``, ``'slurm'`` or ``'mpi'``.

    Returns:
        bool: True when a gloo process group was opened here.

    Raises:
        RuntimeError: a CPU run with ``--launcher pytorch`` lacks one of
            the variables that ``torchrun`` sets, or with a launcher other
            than ``pytorch`` (start CPU runs with ``torchrun``).
    """
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher != 'pytorch':
        raise RuntimeError(
            f'--launcher {launcher} needs CUDA (MMEngine binds each process '
            'to a GPU); on a CPU-only machine start the processes with '
            'torchrun and --launcher pytorch (docs/train_test.md).')
    missing = [name for name in _TORCHRUN_VARS if name not in os.environ]
    if missing:
        raise RuntimeError(
            f'--launcher pytorch expects the variables set by torchrun, '
            f'missing: {missing}. Start with `torchrun --nproc_per_node N '
            'tools/train.py CONFIG --launcher pytorch`.')

    dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'
    timeout = dist_cfg.get('timeout')
    if not torch_dist.is_initialized():
        kwargs = {}
        if timeout is not None:
            kwargs['timeout'] = datetime.timedelta(seconds=timeout)
        torch_dist.init_process_group(backend='gloo', **kwargs)

    wrapper = cfg.get('model_wrapper_cfg') or {}
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper['device_ids'] = None  # CPU modules take no device ids
    cfg.model_wrapper_cfg = wrapper
    return True


def close_distributed() -> bool:
    """Wait for every process of the run, then close the process group.

    Call it once the runner's work is done (``runner.train()`` or
    ``runner.test()`` returned) in every process; on an error path, leave
    the group to the launcher, since the other processes may never reach
    the barrier.

    Returns:
        bool: True when a process group was open and is now closed.
    """
    if not (torch_dist.is_available() and torch_dist.is_initialized()):
        return False
    torch_dist.barrier()
    torch_dist.destroy_process_group()
    return True
