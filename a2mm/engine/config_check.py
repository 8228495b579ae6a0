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
   ``WEIGHT_INITIALIZERS``, ...), naming close matches;
3. the keys of each typed dict against the class's ``__init__``: missing
   required arguments, and unknown ones that look like typos of a real one;
   counts that must be positive (``max_epochs``/``max_iters``/
   ``val_interval`` of ``train_cfg``, ``clip_len``/``frame_interval``/
   ``num_clips`` of the frame samplers, ``batch_size``), which MMEngine and
   MMAction2 otherwise accept and then train for no epoch, divide by zero
   or sample empty clips;
4. (``build_model=True``) builds the model: an error of a part, e.g. an A²
   position that does not exist, is re-raised naming the config key; then
   a dry forward of the backbone on a tiny input gives its output channels,
   compared with ``cls_head.in_channels``.

Nothing reads data: annotation files and videos are first opened by the
runner, after this check.
"""
import difflib
import inspect
import traceback
from typing import Any, Iterator, List, Optional, Set, Tuple

import torch
from mmaction import registry as R
from mmengine.config import Config, ConfigDict
from mmengine.registry import DefaultScope, Registry

from a2mm.utils.input_shape import guess_input_shape

__all__ = ['ConfigError', 'check_config']


class ConfigError(ValueError):
    """A config problem, naming the key and what was expected."""


# Which registry a typed dict is built from, by the key that holds it.
_TOP = {
    'model': R.MODELS,
    'train_dataloader': None,
    'val_dataloader': None,
    'test_dataloader': None,
    'val_evaluator': R.METRICS,
    'test_evaluator': R.METRICS,
    'optim_wrapper': R.OPTIM_WRAPPERS,
    'param_scheduler': R.PARAM_SCHEDULERS,
    'default_hooks': R.HOOKS,
    'custom_hooks': R.HOOKS,
    'train_cfg': R.LOOPS,
    'val_cfg': R.LOOPS,
    'test_cfg': R.LOOPS,
    'visualizer': R.VISUALIZERS,
    'log_processor': R.LOG_PROCESSORS,
    'model_wrapper_cfg': R.MODEL_WRAPPERS,
}
_NESTED = {
    'dataset': R.DATASETS,
    'datasets': R.DATASETS,
    'pipeline': R.TRANSFORMS,
    'transforms': R.TRANSFORMS,
    'sampler': R.DATA_SAMPLERS,
    'batch_sampler': R.DATA_SAMPLERS,
    'collate_fn': R.FUNCTION,
    'init_cfg': R.WEIGHT_INITIALIZERS,
    'optimizer': R.OPTIMIZERS,
    'constructor': R.OPTIM_WRAPPER_CONSTRUCTORS,
    'vis_backends': R.VISBACKENDS,
    'metrics': R.METRICS,
    'backbone': R.MODELS,
    'neck': R.MODELS,
    'cls_head': R.MODELS,
    'data_preprocessor': R.MODELS,
}
_NEEDED = {
    'train': ('model', 'train_dataloader', 'train_cfg', 'optim_wrapper'),
    'test': ('model', 'test_dataloader', 'test_cfg', 'test_evaluator'),
}
# Arguments the runner passes itself when it builds from these registries.
_FILLED_BY_RUNNER = {
    'loop': {'runner', 'dataloader', 'evaluator'},
    'data sampler': {'dataset'},
    'optimizer': {'params'},
    'parameter scheduler': {'optimizer'},
    'optim_wrapper': {'optimizer'},
    'vis_backend': {'save_dir'},
}
_REGISTRIES = [
    r for r in vars(R).values() if isinstance(r, Registry)
]


def _names(registry: Registry) -> Set[str]:
    """Every name ``registry`` can build (its own and its parents')."""
    names: Set[str] = set()
    while registry is not None:
        try:
            registry.import_from_location()
        except ImportError:  # mmaction's FUNCTION names a missing module
            pass
        names |= set(registry.module_dict)
        registry = registry.parent
    return names


def _lookup(registry: Registry, name: str) -> Any:
    with DefaultScope.overwrite_default_scope('mmaction'):
        try:
            return registry.get(name)
        except ImportError:  # mmaction's FUNCTION names a missing module
            registry._imported = True
            return registry.get(name)


#: Layer configs that mmcv's builders (build_norm_layer, build_conv_layer,
#: build_activation_layer, build_padding_layer) consume: they take keys
#: that are not constructor arguments (``requires_grad``) and add others
#: (the channels, ``num_features``), so checking them as plain ``MODELS``
#: constructors rejected valid configs (``non_local_cfg.norm_cfg`` of the
#: non-local configs; MMAction2's i3d_r50 base, ``conv_cfg=dict(
#: type='Conv3d')``). Left to mmcv, which checks them when it builds. Also ``block`` of a2mm's BlockInserted, whose
#: ``in_channels`` the wrapper fills in from its dry run.
_LAYER_CFGS = frozenset(
    {'norm_cfg', 'conv_cfg', 'act_cfg', 'pad_cfg', 'block'})


def _typed_dicts(node: Any, key: str,
                 registry: Optional[Registry]) -> Iterator[Tuple[str, dict,
                                                                Registry]]:
    """Yield (key path, dict, registry) for every dict with a ``type``."""
    if isinstance(node, dict):
        if 'type' in node and registry is not None:
            yield key, node, registry
        for child_key, child in node.items():
            if child_key == 'type' or child_key in _LAYER_CFGS:
                continue
            child_registry = _NESTED.get(child_key, registry)
            yield from _typed_dicts(child, f'{key}.{child_key}',
                                    child_registry)
    elif isinstance(node, (list, tuple)):
        for i, child in enumerate(node):
            yield from _typed_dicts(child, f'{key}[{i}]', registry)


def _arguments(obj: Any) -> Tuple[Set[str], Set[str], bool]:
    """(required, accepted, takes **kwargs) of building ``obj``. Accepted
    names follow ``**kwargs`` up the MRO (it usually goes to the parent)."""
    if not inspect.isclass(obj):
        params = inspect.signature(obj).parameters.values()
        required = {
            p.name
            for p in params if p.default is p.empty
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }
        var_kw = any(p.kind == p.VAR_KEYWORD for p in params)
        return required, {p.name for p in params}, var_kw
    required: Set[str] = set()
    accepted: Set[str] = set()
    own_var_kw = None
    for klass in obj.__mro__:
        if '__init__' not in vars(klass) or klass is object:
            continue
        try:
            params = list(
                inspect.signature(vars(klass)['__init__']).parameters.values())
        except (TypeError, ValueError):
            break
        params = params[1:]  # self
        var_kw = any(p.kind == p.VAR_KEYWORD for p in params)
        if own_var_kw is None:
            own_var_kw = var_kw
            required = {
                p.name
                for p in params if p.default is p.empty
                and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            }
        accepted |= {
            p.name
            for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        }
        if not var_kw:
            break
    return required, accepted, bool(own_var_kw)


def _check_typed(path: str, cfg: dict, registry: Registry,
                 problems: List[str]) -> None:
    name = cfg['type']
    if not isinstance(name, str):
        return  # a class object (pure-Python config): nothing to look up
    obj = _lookup(registry, name)
    if obj is None:
        if any(_lookup(r, name) is not None for r in _REGISTRIES):
            return  # registered elsewhere: a key this check does not map
        close = difflib.get_close_matches(
            name.split('.')[-1], sorted(_names(registry)), n=3, cutoff=0.6)
        hint = f'; did you mean {close}?' if close else ''
        problems.append(f'{path}.type: {name!r} is not a registered '
                        f'{registry.name} type{hint}')
        return
    required, accepted, var_kw = _arguments(obj)
    # `_scope_`: set by mmengine on the dicts of a `pkg::` base; popped by
    # Registry.build, never passed to the class
    keys = set(cfg) - {'type', '_scope_'}
    required -= _FILLED_BY_RUNNER.get(registry.name, set())
    for missing in sorted(required - keys):
        problems.append(f'{path}.{missing}: missing; {name} needs it')
    for unknown in sorted(keys - accepted):
        close = difflib.get_close_matches(unknown, sorted(accepted), n=3)
        if close:
            problems.append(f'{path}.{unknown}: {name} has no argument '
                            f'{unknown!r}; did you mean {close}?')
        elif not var_kw:
            problems.append(
                f'{path}.{unknown}: {name} has no argument {unknown!r}; '
                f'it takes {sorted(accepted)}')


# Keys that must be integers >= 1 where they appear.
_POSITIVE_TRAIN_CFG = ('max_epochs', 'max_iters', 'val_interval')
_POSITIVE_SAMPLER = ('clip_len', 'frame_interval', 'num_clips')


def _positive(path: str, value: Any, problems: List[str]) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        problems.append(f'{path}: {value!r}; must be an integer >= 1')


def _check_counts(cfg: Config, loaders: List[str], mode: str,
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


def _describe(exc: BaseException) -> str:
    """``Type: message``, or where it was raised for a bare assertion."""
    if str(exc):
        return f'{type(exc).__name__}: {exc}'
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    return (f'{type(exc).__name__} at {frame.filename}:{frame.lineno}: '
            f'{frame.line}')


def _clip_len(cfg: Config) -> int:
    """The clip length of the first ``SampleFrames`` of a pipeline, or 8."""
    for key in ('train_dataloader', 'test_dataloader', 'val_dataloader'):
        pipeline = ((cfg.get(key) or {}).get('dataset') or {}).get(
            'pipeline') or []
        for step in pipeline:
            if isinstance(step, dict) and 'clip_len' in step:
                return int(step['clip_len'])
    return 8


def _check_model(cfg: Config, problems: List[str]) -> None:
    """Build the model; compare the backbone's measured output channels
    with ``cls_head.in_channels``."""
    parts = [(f'model.{key}', cfg.model[key])
             for key in ('backbone', 'neck', 'cls_head')
             if isinstance(cfg.model.get(key), dict)]
    for path, part_cfg in parts + [('model', cfg.model)]:
        try:  # each part alone first, so the error names the part
            with DefaultScope.overwrite_default_scope('mmaction'):
                model = R.MODELS.build(part_cfg)
        except Exception as exc:
            hint = ''
            if path == 'model.backbone' and 'a2' in part_cfg and (
                    'a2' in str(exc).lower() or not str(exc)):
                path, hint = 'model.backbone.a2', ' (where the A² blocks go)'
            raise ConfigError(f'{path}{hint}: building it failed: '
                              f'{_describe(exc)}') from exc
    backbone = getattr(model, 'backbone', None)
    head = getattr(model, 'cls_head', None)
    expected = getattr(head, 'in_channels', None)
    if backbone is None or not isinstance(expected, int) or \
            getattr(model, 'neck', None) is not None:
        return
    fmt = getattr(getattr(model, 'data_preprocessor', None), 'format_shape',
                  'NCTHW')
    if fmt not in ('NCTHW', 'NCHW'):
        return
    shape = guess_input_shape(
        backbone, format_shape=fmt, clip_len=_clip_len(cfg), size=64)
    backbone.eval()
    try:
        with torch.no_grad():
            out = backbone(torch.zeros(shape))
    except Exception:  # a tiny input may not suit every backbone
        return
    if isinstance(out, (tuple, list)) and len(out) == 1:
        out = out[0]
    if not isinstance(out, torch.Tensor):
        return
    if out.shape[1] != expected:
        problems.append(
            f'model.cls_head.in_channels: {expected}, but model.backbone '
            f'({cfg.model.backbone.get("type")}) outputs {out.shape[1]} '
            f'channels (measured by a forward pass on a {tuple(shape)} '
            f'input); set model.cls_head.in_channels={out.shape[1]}')


def _link_num_classes(cfg: Config) -> None:
    """Give each ``RobustVideoDataset`` without ``num_classes`` the head's,
    so that its labels are range-checked when the list is parsed (a label
    beyond the classifier is otherwise an ``IndexError: Target 7 is out of
    bounds`` inside the loss, after the first batch is decoded)."""
    num_classes = ((cfg.get('model') or {}).get('cls_head') or {}).get(
        'num_classes')
    if not isinstance(num_classes, int):
        return
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = (cfg.get(loader) or {}).get('dataset') or {}
        if dataset.get('type') == 'RobustVideoDataset' and \
                dataset.get('num_classes') is None:
            dataset['num_classes'] = num_classes


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

    Also sets ``num_classes`` of every ``RobustVideoDataset`` that has none
    to ``model.cls_head.num_classes``, so that labels outside the classifier
    are reported with file and line when the annotation list is parsed.

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
    for key, registry in _TOP.items():
        node = cfg.get(key)
        if node is None:
            continue
        if key in ('default_hooks', ):
            node = ConfigDict({k: v for k, v in node.items() if v})
        for path, typed, reg in _typed_dicts(node, key, registry):
            _check_typed(path, typed, reg, problems)
    _check_counts(cfg, loaders, mode, problems)
    _link_num_classes(cfg)
    if problems:
        raise ConfigError('config errors (found before building anything):'
                          '\n  ' + '\n  '.join(problems))
    if build_model:
        _check_model(cfg, problems)
    if problems:
        raise ConfigError('config errors:\n  ' + '\n  '.join(problems))
