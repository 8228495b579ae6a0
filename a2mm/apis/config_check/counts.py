"""Counts that must be integers >= 1 (``max_epochs``/``max_iters``/
``val_interval`` of ``train_cfg``, ``clip_len``/``frame_interval``/
``num_clips`` of the frame samplers, ``batch_size``), which MMEngine and
MMAction2 otherwise accept and then train for no epoch, divide by zero or
sample empty clips."""
from typing import Any, Iterator, List, Tuple

from mmengine.config import Config

__all__ = ['check_counts']

# Keys that must be integers >= 1 where they appear.
_POSITIVE_TRAIN_CFG = ('max_epochs', 'max_iters', 'val_interval')
_POSITIVE_SAMPLER = ('clip_len', 'frame_interval', 'num_clips')


def _positive(path: str, value: Any, problems: List[str]) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        problems.append(f'{path}: {value!r}; must be an integer >= 1')


def check_counts(cfg: Config, loaders: List[str], mode: str,
                  problems: List[str]) -> None:
    """Counts that must be positive: the training schedule, and every
    pipeline step with a ``clip_len``/``frame_interval``/``num_clips``
    (``SampleFrames``, ``UniformSample``, ...), and ``batch_size``."""
    train_cfg = cfg.get('train_cfg')
    if mode == 'train' and isinstance(train_cfg, dict):
        for key in _POSITIVE_TRAIN_CFG:
            if key in train_cfg:
                _positive(f'train_cfg.{key}', train_cfg[key], problems)
    for loader in loaders:
        node = cfg.get(loader)
        if not isinstance(node, dict):
            continue
        if 'batch_size' in node:
            _positive(f'{loader}.batch_size', node['batch_size'], problems)
        for path, step in _all_dicts(node.get('dataset'),
                                     f'{loader}.dataset'):
            if 'type' in step:
                for key in _POSITIVE_SAMPLER:
                    if key in step:
                        _positive(f'{path}.{key}', step[key], problems)


def _all_dicts(node: Any, key: str) -> Iterator[Tuple[str, dict]]:
    """(key path, dict) for every dict inside ``node``."""
    if isinstance(node, dict):
        yield key, node
        for child_key, child in node.items():
            yield from _all_dicts(child, f'{key}.{child_key}')
    elif isinstance(node, (list, tuple)):
        for i, child in enumerate(node):
            yield from _all_dicts(child, f'{key}[{i}]')
