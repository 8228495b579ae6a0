"""Check a config before anything is built or read, and say which key is
wrong and what was expected.

Without this, a misspelt ``type`` is found only when the runner builds that
part (a dataset's pipeline after the model, an evaluator after an epoch of
training), a missing argument is a ``TypeError`` from ``__init__`` that
does not say which part of the config it came from, and a head whose
``in_channels`` does not match the backbone fails at the first forward with
``mat1 and mat2 shapes cannot be multiplied`` after the data is loaded.

:func:`check_config` walks the config and checks, in this order:

1. the sections that training or testing needs (``train_dataloader``,
   ``train_cfg``, ``optim_wrapper``, ...; ``dataset``/``sampler``/
   ``batch_size`` in each dataloader);
2. every ``type=`` against the registry it is built from (``model`` ->
   ``MODELS``, ``pipeline`` -> ``TRANSFORMS``, ``init_cfg`` ->
   ``WEIGHT_INITIALIZERS``, ...), naming close matches
   (:mod:`.registry_tables`, :mod:`.arguments`);
3. the keys of each typed dict against the class's ``__init__``: missing
   required arguments, and unknown ones that look like typos of a real one;
   counts that must be positive (``max_epochs``/``max_iters``/
   ``val_interval`` of ``train_cfg``, ``clip_len``/``frame_interval``/
   ``num_clips`` of the frame samplers, ``batch_size``), which MMEngine and
   MMAction2 otherwise accept and then train for no epoch, divide by zero
   or sample empty clips (:mod:`.arguments`, :mod:`.counts`);
4. (``build_model=True``) builds the model: an error of a part, e.g. an A²
   position that does not exist, is re-raised naming the config key; then
   a dry forward of the backbone on a tiny input gives its output channels,
   compared with ``cls_head.in_channels`` (:mod:`.model_check`).

It only checks: the config is not changed. Nothing reads data: annotation
files and videos are first opened by the runner, after this check.
"""
from typing import List

from mmengine.config import Config, ConfigDict

from .arguments import check_typed
from .counts import check_counts
from .errors import ConfigError
from .model_check import check_model
from .registry_tables import TOP_REGISTRIES, typed_dicts

__all__ = ['check_config']

_NEEDED = {
    'train': ('model', 'train_dataloader', 'train_cfg', 'optim_wrapper'),
    'test': ('model', 'test_dataloader', 'test_cfg', 'test_evaluator'),
}


def check_config(cfg: Config,
                 mode: str = 'train',
                 build_model: bool = True) -> None:
    """Check ``cfg`` for ``mode`` (``'train'`` or ``'test'``).

    Args:
        cfg (Config): the full config, after ``--cfg-options``.
        mode (str): which sections must be present.
        build_model (bool): also build the model and check
            backbone/head channels (a dry forward on a tiny input, a second
            or so for a ResNet-50). Defaults to True.

    It reads ``cfg`` and changes nothing in it. (Filling in a dataset's
    ``num_classes`` from the head is the caller's job:
    :func:`a2mm.apis.config_edits.link_num_classes`, which ``tools/train.py``
    and ``tools/test.py`` call before this check.)

    Raises:
        ConfigError: listing every problem found, each as
            ``<key path>: <what is wrong>; <what was expected>``.
    """
    if mode not in _NEEDED:
        raise ValueError(f'mode must be one of {sorted(_NEEDED)}, got '
                         f'{mode!r}')
    problems: List[str] = []
    for key in _NEEDED[mode]:
        if cfg.get(key) is None:
            problems.append(f'{key}: missing; {mode} needs '
                            f'{", ".join(_NEEDED[mode])}')
    loaders = ['train_dataloader'] if mode == 'train' else ['test_dataloader']
    if mode == 'train' and cfg.get('val_dataloader') is not None:
        loaders.append('val_dataloader')
        for key in ('val_cfg', 'val_evaluator'):
            if cfg.get(key) is None:
                problems.append(f'{key}: missing; val_dataloader is set, so '
                                'val_cfg and val_evaluator are needed too')
    for loader in loaders:
        if isinstance(cfg.get(loader), dict):
            for key in ('dataset', 'sampler', 'batch_size'):
                if key not in cfg[loader]:
                    problems.append(f'{loader}.{key}: missing')
    for key, registry in TOP_REGISTRIES.items():
        node = cfg.get(key)
        if node is None:
            continue
        if key in ('default_hooks', ):
            node = ConfigDict({k: v for k, v in node.items() if v})
        for path, typed, reg in typed_dicts(node, key, registry):
            check_typed(path, typed, reg, problems)
    check_counts(cfg, loaders, mode, problems)
    if problems:
        raise ConfigError('config errors (found before building anything):'
                          '\n  ' + '\n  '.join(problems))
    if build_model:
        check_model(cfg, problems)
    if problems:
        raise ConfigError('config errors:\n  ' + '\n  '.join(problems))
