"""The config edits of ``tools/train.py`` and ``tools/test.py``: what a
command-line flag changes in a config, one function per flag, each called
explicitly by the tool (and usable from Python on any ``Config``).

* ``--amp`` / ``--amp-dtype`` (:func:`add_amp_arguments`):
  :func:`enable_amp_train`, :func:`enable_amp_test`;
* ``tools/test.py --skip-bad-videos``: :func:`enable_skip_bad_videos`;
* before the config check, both tools: :func:`link_num_classes` (a
  dataset without ``num_classes`` takes the head's).

They name a2mm's modules by their registry ``type`` and import none of
them: the config is edited, the runner builds it.
"""
import argparse
from typing import Any

from a2mm.utils.amp import AMP_DTYPES, resolve_amp_dtype

__all__ = [
    'add_amp_arguments', 'enable_amp_train', 'enable_amp_test',
    'enable_skip_bad_videos', 'link_num_classes'
]


def add_amp_arguments(parser: argparse.ArgumentParser) -> None:
    """``--amp`` and ``--amp-dtype``, the same for ``tools/train.py`` and
    ``tools/test.py``; ``args.amp_dtype`` alone implies ``--amp``."""
    parser.add_argument(
        '--amp',
        action='store_true',
        help='automatic mixed precision (on GPUs and on the CPU)')
    parser.add_argument(
        '--amp-dtype',
        choices=sorted(AMP_DTYPES),
        default=None,
        help='the mixed precision dtype (implies --amp; default fp16)')


def enable_amp_train(cfg: Any, dtype: str = 'fp16') -> None:
    """Train (and validate) in mixed precision: ``optim_wrapper`` becomes a
    :class:`~a2mm.engine.optimizers.DeviceAmpOptimWrapper` with ``dtype``,
    the validation loop an :class:`~a2mm.engine.runner.AmpValLoop` with the
    same dtype, and the config gets a
    :class:`~a2mm.engine.hooks.Float32ScoresHook` (``tools/train.py
    --amp``).

    Args:
        cfg: the training config (edited in place).
        dtype: ``'fp16'`` or ``'bf16'`` (or ``'float16'``/``'bfloat16'``).

    Raises:
        ValueError: the config's optim wrapper or validation loop is of
            another type (one that a2mm cannot swap safely), or a bad dtype.
    """
    name = str(resolve_amp_dtype(dtype)).replace('torch.', '')
    wrapper_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper_type not in ('OptimWrapper', 'AmpOptimWrapper',
                            'DeviceAmpOptimWrapper'):
        raise ValueError(
            'amp training needs optim_wrapper.type OptimWrapper, '
            f'AmpOptimWrapper or DeviceAmpOptimWrapper, got {wrapper_type!r}')
    cfg.optim_wrapper.type = 'DeviceAmpOptimWrapper'
    cfg.optim_wrapper.dtype = name
    cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if cfg.get('val_cfg') is not None:
        _set_amp_loop(cfg, 'val_cfg', name)
    _ensure_custom_hook(cfg, 'Float32ScoresHook')


def enable_amp_test(cfg: Any, dtype: str = 'fp16') -> None:
    """Test in mixed precision: ``test_cfg`` becomes an
    :class:`~a2mm.engine.runner.AmpTestLoop` with ``dtype`` and the config
    gets a :class:`~a2mm.engine.hooks.Float32ScoresHook` (``tools/test.py
    --amp``).

    Raises:
        ValueError: ``test_cfg`` names another loop type, or a bad dtype.
    """
    name = str(resolve_amp_dtype(dtype)).replace('torch.', '')
    _set_amp_loop(cfg, 'test_cfg', name)
    _ensure_custom_hook(cfg, 'Float32ScoresHook')


def _set_amp_loop(cfg: Any, key: str, dtype: str) -> None:
    plain, amp = {'val_cfg': ('ValLoop', 'AmpValLoop'),
                  'test_cfg': ('TestLoop', 'AmpTestLoop')}[key]
    loop = dict(cfg.get(key) or {})
    loop_type = loop.get('type', plain)
    if loop_type not in (plain, amp):
        raise ValueError(f'amp needs {key}.type {plain} or {amp}, '
                         f'got {loop_type!r}')
    loop.pop('fp16', None)  # MMEngine's flag; the dtype replaces it
    loop.update(type=amp, dtype=dtype)
    cfg[key] = loop


def enable_skip_bad_videos(cfg: Any, loader: str = 'test_dataloader') -> None:
    """Set ``<loader>.dataset.skip_bad_videos=True`` and make sure the
    config has a :class:`~a2mm.engine.hooks.BadVideoHook` (``tools/test.py
    --skip-bad-videos``).

    Raises:
        ValueError: the dataset is not a ``RobustVideoDataset``: MMAction2's
            ``VideoDataset`` cannot skip a video.
    """
    dataset = cfg[loader]['dataset']
    if dataset.get('type') != 'RobustVideoDataset':
        raise ValueError(
            f'{loader}.dataset.type is {dataset.get("type")!r}; skipping bad '
            "videos needs type='RobustVideoDataset'")
    dataset['skip_bad_videos'] = True
    _ensure_custom_hook(cfg, 'BadVideoHook')


def link_num_classes(cfg: Any) -> None:
    """Give each ``RobustVideoDataset`` without ``num_classes`` the head's
    (``model.cls_head.num_classes``), so that its labels are range-checked
    when the list is parsed (a label beyond the classifier is otherwise an
    ``IndexError: Target 7 is out of bounds`` inside the loss, after the
    first batch is decoded). ``tools/train.py`` and ``tools/test.py`` call
    it before :func:`~a2mm.apis.config_check.check_config`.
    """
    num_classes = ((cfg.get('model') or {}).get('cls_head') or {}).get(
        'num_classes')
    if not isinstance(num_classes, int):
        return
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = (cfg.get(loader) or {}).get('dataset') or {}
        if dataset.get('type') == 'RobustVideoDataset' and \
                dataset.get('num_classes') is None:
            dataset['num_classes'] = num_classes


def _ensure_custom_hook(cfg: Any, hook_type: str) -> None:
    """Append ``dict(type=hook_type)`` to ``custom_hooks`` unless a hook of
    that type is there already."""
    hooks = list(cfg.get('custom_hooks') or [])
    if not any(h.get('type') == hook_type for h in hooks):
        hooks.append(dict(type=hook_type))
    cfg['custom_hooks'] = hooks
