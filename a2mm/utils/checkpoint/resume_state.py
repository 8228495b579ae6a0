"""Check the training state of a checkpoint before ``--resume`` applies it:
:func:`check_resume_state`.

Why: ``Runner.resume`` (mmengine 0.10.7) copies the checkpoint's
``message_hub``, optimizer and scheduler states into the run without
looking at them. PyTorch's ``Optimizer.load_state_dict`` checks only the
number of parameters per group, so ``lr='fast'`` is accepted and fails at
the first ``optimizer.step()`` (``TypeError``); a momentum buffer of the
wrong shape fails there too; a ``HistoryBuffer`` whose history is a list or
a string fails at the first logged scalar (``TypeError`` /
``AssertionError``); a scheduler state with an unknown key replaces an
attribute of the scheduler. Each of these stops a run after training has
begun, with an error that names neither the checkpoint nor the key.

What: every value the run will use is compared with what this run would
save itself: the kind of each optimizer hyperparameter and scheduler value
(a finite real number where the run has one, a bool where a bool, ...),
the shape of each optimizer state tensor against its parameter, the types
and lengths inside each ``HistoryBuffer``, and the counters and checkpoint
bookkeeping that MMEngine's hooks read (``epoch``, ``iter``,
``keep_ckpt_ids``, ``last_ckpt``, ``best_score``, ...).
:class:`ResumeStateError` names the checkpoint and the key at fault.
``ResumeSeedHook`` calls it from ``after_load_checkpoint`` when resuming.
"""
import math
import numbers
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

from .loader import CheckpointLoadError

__all__ = ['ResumeStateError', 'check_resume_state']

# runtime_info keys read by MMEngine's hooks after a resume, by kind
# (RuntimeInfoHook, CheckpointHook: keep_ckpt_ids, last_ckpt, best_*)
_COUNTERS = ('epoch', 'iter', 'max_epochs', 'max_iters')
_PATHS = ('last_ckpt', 'best_ckpt')
_HISTORY_ATTRS = ('max_length', '_log_history', '_count_history',
                  '_statistics_methods')


class ResumeStateError(CheckpointLoadError):
    """A checkpoint whose training state would fail or mislead a resumed
    run; the message names the checkpoint and the key."""


def _key(path: Sequence) -> str:
    return ''.join(f'[{part!r}]' for part in path)


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, (str, bool, int, float,
                                             type(None))) else ''
    text = text if len(text) <= 40 else text[:37] + '...'
    if not text and isinstance(value, (list, tuple, dict, np.ndarray)):
        text = f'of length {len(value)}'
    return f'{type(value).__name__} {text}'.rstrip()


class _Checker:

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: Sequence, value: Any, expected: str) -> None:
        raise ResumeStateError(
            f'refused to resume from {self.source}: {_key(path)} is '
            f'{_shown(value)}, expected {expected}')

    # ------------------------------------------------------------- kinds
    def list_of(self, value: Any, length: int, path: Sequence,
                what: str) -> None:
        """``value`` must be a list of ``length`` ``what``."""
        if not isinstance(value, list) or len(value) != length:
            self.fail(path, value, f'a list of {length} {what}')

    def real(self, value: Any, path: Sequence) -> None:
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        if (isinstance(value, bool) or not isinstance(value, numbers.Real)
                or not math.isfinite(value)):
            self.fail(path, value, 'a finite number')

    def count(self, value: Any, path: Sequence) -> None:
        if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
                or value < 0):
            self.fail(path, value, 'an integer >= 0')

    def like(self, value: Any, template: Any, path: Sequence) -> None:
        """``value`` is of the kind of ``template`` (what this run has)."""
        if isinstance(template, bool):
            if not isinstance(value, bool):
                self.fail(path, value, 'True or False')
        elif isinstance(template, numbers.Real):
            self.real(value, path)
        elif template is None:  # e.g. foreach, fused; eta_min
            if value is not None and not isinstance(value, bool):
                self.real(value, path)
        elif isinstance(template, str):
            if not isinstance(value, str):
                self.fail(path, value, 'a string')
        elif isinstance(template, torch.Tensor):
            if (not isinstance(value, torch.Tensor)
                    or value.shape != template.shape
                    or value.is_floating_point()
                    != template.is_floating_point()):
                self.fail(path, value, f'a tensor of shape '
                          f'{tuple(template.shape)} like this run\'s')
        elif isinstance(template, (list, tuple)):
            if (not isinstance(value, (list, tuple))
                    or len(value) != len(template)):
                self.fail(path, value, f'a list of {len(template)} like '
                          'this run\'s')
            for i, (item, like) in enumerate(zip(value, template)):
                self.like(item, like, [*path, i])
        elif isinstance(template, dict):
            if not isinstance(value, dict):
                self.fail(path, value, 'a dict')
            for key, item in value.items():
                if key not in template:
                    self.fail([*path, key], item, 'no such key (this run '
                              'has none)')
                self.like(item, template[key], [*path, key])
        elif type(value) is not type(template):
            self.fail(path, value, type(template).__name__)

    # ------------------------------------------------------------ parts
    def meta(self, meta: Any) -> None:
        if not isinstance(meta, dict):
            self.fail(['meta'], meta, 'a dict')
        for key in ('epoch', 'iter'):
            self.count(meta.get(key), ['meta', key])
        seed = meta.get('seed')
        if seed is not None:
            self.count(seed, ['meta', 'seed'])
            if seed >= 2**32:
                self.fail(['meta', 'seed'], seed, 'a seed below 2**32')

    def history(self, buffer: Any, path: List) -> None:
        if not isinstance(buffer, HistoryBuffer):
            return  # MMEngine skips it with a warning
        state = vars(buffer)
        for key in state:
            if key not in _HISTORY_ATTRS:
                self.fail([*path, key], state[key], 'no such attribute of '
                          'HistoryBuffer')
        self.count(state.get('max_length'), [*path, 'max_length'])
        lengths = []
        for key in ('_log_history', '_count_history'):
            value = state.get(key)
            if (not isinstance(value, np.ndarray) or value.ndim != 1
                    or value.dtype.kind not in 'iuf'):
                self.fail([*path, key], value,
                          'a 1-d numpy array of numbers')
            lengths.append(len(value))
        if lengths[0] != lengths[1] or lengths[0] > state['max_length']:
            self.fail([*path, '_log_history'], state['_log_history'],
                      f'as many values as _count_history ({lengths[1]}), '
                      f'at most max_length ({state["max_length"]})')
        methods = state.get('_statistics_methods', {})
        if not isinstance(methods, dict) or not all(
                isinstance(k, str) and callable(v)
                for k, v in methods.items()):
            self.fail([*path, '_statistics_methods'], methods,
                      'a dict of statistics methods')

    def message_hub(self, hub: Any) -> None:
        path = ['message_hub']
        if not isinstance(hub, dict):
            self.fail(path, hub, 'a dict')
        for part in ('log_scalars', 'runtime_info', 'resumed_keys'):
            if not isinstance(hub.get(part), dict):
                self.fail([*path, part], hub.get(part), 'a dict')
        for key, buffer in hub['log_scalars'].items():
            if not isinstance(key, str):
                self.fail([*path, 'log_scalars', key], buffer,
                          'a value under a string key')
            self.history(buffer, [*path, 'log_scalars', key])
        info = hub['runtime_info']
        where = [*path, 'runtime_info']
        for key, value in info.items():
            if key in _COUNTERS:
                self.count(value, [*where, key])
            elif key in _PATHS or (isinstance(key, str)
                                   and key.startswith('best_ckpt_')):
                if not isinstance(value, str):
                    self.fail([*where, key], value, 'a checkpoint path')
            elif isinstance(key, str) and key.startswith('best_score'):
                self.real(value, [*where, key])
            elif key == 'keep_ckpt_ids':
                if not isinstance(value, (list, tuple)):
                    self.fail([*where, key], value, 'a list of steps')
                for i, step in enumerate(value):
                    self.count(step, [*where, key, i])
        for key, value in hub['resumed_keys'].items():
            if not isinstance(value, bool):
                self.fail([*path, 'resumed_keys', key], value,
                          'True or False')

    def optimizer(self, state: Any, optimizer: torch.optim.Optimizer,
                  template: dict, path: List) -> None:
        if not isinstance(state, dict):
            self.fail(path, state, 'an optimizer state dict')
        groups = state.get('param_groups')
        self.list_of(groups, len(template['param_groups']),
                     [*path, 'param_groups'],
                     'parameter groups like this run\'s')
        shapes: Dict[Any, torch.Size] = {}
        for g, (group, like, live) in enumerate(
                zip(groups, template['param_groups'],
                    optimizer.param_groups)):
            where = [*path, 'param_groups', g]
            if not isinstance(group, dict):
                self.fail(where, group, 'a dict')
            ids = group.get('params')
            self.list_of(ids, len(like['params']), [*where, 'params'],
                         'parameter ids')
            for j, i in enumerate(ids):
                self.count(i, [*where, 'params', j])
            for key, value in group.items():
                if key == 'params':
                    continue
                if key in like:
                    self.like(value, like[key], [*where, key])
                elif value is not None and not isinstance(
                        value, (bool, str)):
                    self.real(value, [*where, key])  # e.g. initial_lr
            shapes.update((i, p.shape) for i, p in zip(ids, live['params']))
        entries = state.get('state')
        if not isinstance(entries, dict):
            self.fail([*path, 'state'], entries, 'a dict')
        for i, entry in entries.items():
            where = [*path, 'state', i]
            if i not in shapes:
                self.fail(where, entry, 'the state of a parameter listed '
                          'in param_groups')
            if not isinstance(entry, dict):
                self.fail(where, entry, 'a dict')
            for key, value in entry.items():
                if isinstance(value, torch.Tensor):
                    if value.numel() != 1 and value.shape != shapes[i]:
                        self.fail([*where, key], value, 'a tensor of the '
                                  f'parameter\'s shape {tuple(shapes[i])}')
                    if not (value.is_floating_point()
                            or value.dtype == torch.int64):
                        self.fail([*where, key], value,
                                  'a tensor of numbers')
                elif value is not None:
                    self.real(value, [*where, key])
        for key, value in state.items():  # e.g. AMP's loss_scaler
            if key not in ('state', 'param_groups') and key in template:
                self.like(value, template[key], [*path, key])


def _wrappers(optim_wrapper) -> Dict[Optional[str], Any]:
    """``{name: OptimWrapper}`` of an OptimWrapper(Dict)."""
    if hasattr(optim_wrapper, 'optim_wrappers'):  # OptimWrapperDict
        return dict(optim_wrapper.optim_wrappers)
    return {None: optim_wrapper}


def check_resume_state(checkpoint: dict, *, source: str,
                       optim_wrapper=None,
                       param_schedulers=None) -> None:
    """Check ``checkpoint``'s training state against the run resuming it.

    Args:
        checkpoint (dict): the loaded checkpoint.
        source (str): the checkpoint's name in the error message.
        optim_wrapper (OptimWrapper | OptimWrapperDict | None): the run's
            built optimizer wrapper; None (or not built) skips the optimizer.
        param_schedulers (list | dict | None): the run's built schedulers
            (a list, or a dict of lists per optimizer); None skips them.

    Raises:
        ResumeStateError: the first value at fault, with its key.
    """
    check = _Checker(source)
    check.meta(checkpoint.get('meta'))
    check.message_hub(checkpoint.get('message_hub'))
    if 'optimizer' in checkpoint and hasattr(optim_wrapper, 'state_dict'):
        saved = checkpoint['optimizer']
        for name, wrapper in _wrappers(optim_wrapper).items():
            path = ['optimizer'] if name is None else ['optimizer', name]
            state = saved if name is None else (
                saved.get(name) if isinstance(saved, dict) else None)
            check.optimizer(state, wrapper.optimizer, wrapper.state_dict(),
                            path)
    saved = checkpoint.get('param_schedulers')
    if saved is None or param_schedulers is None:
        return
    groups = (param_schedulers.items() if isinstance(param_schedulers, dict)
              else [(None, param_schedulers)])
    for name, schedulers in groups:
        path = ['param_schedulers'] + ([] if name is None else [name])
        states = saved if name is None else (
            saved.get(name) if isinstance(saved, dict) else None)
        if not isinstance(states, list):
            check.fail(path, states, 'a list of scheduler states')
        # MMEngine resumes zip(schedulers, states): the pairs it will load
        for i, (scheduler, state) in enumerate(zip(schedulers, states)):
            check.like(state, scheduler.state_dict(), [*path, i])
