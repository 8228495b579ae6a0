"""Which registry each typed dict of a config is built from, and the walk
that finds them: the tables of step 2 of :func:`~.check.check_config`.

A *typed dict* is a dict with a ``type`` key; its registry follows from the
key that holds it (``model`` -> ``MODELS``, ``pipeline`` -> ``TRANSFORMS``,
...) and is inherited by the dicts inside it.
"""
from typing import Any, Iterator, Optional, Set, Tuple

from mmaction import registry as R
from mmengine.registry import DefaultScope, Registry

__all__ = [
    'TOP_REGISTRIES', 'NESTED_REGISTRIES', 'FILLED_BY_RUNNER',
    'ALL_REGISTRIES', 'LAYER_CFGS', 'registry_names', 'lookup', 'typed_dicts'
]

# Which registry a typed dict is built from, by the key that holds it.
TOP_REGISTRIES = {
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
NESTED_REGISTRIES = {
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
# Arguments the runner passes itself when it builds from these registries.
FILLED_BY_RUNNER = {
    'loop': {'runner', 'dataloader', 'evaluator'},
    'data sampler': {'dataset'},
    'optimizer': {'params'},
    'parameter scheduler': {'optimizer'},
    'optim_wrapper': {'optimizer'},
    'vis_backend': {'save_dir'},
}
ALL_REGISTRIES = [
    r for r in vars(R).values() if isinstance(r, Registry)
]


def registry_names(registry: Registry) -> Set[str]:
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


def lookup(registry: Registry, name: str) -> Any:
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
#: ``in_channels`` the wrapper fills in from its dry run, and ``consensus``
#: of MMAction2's TSN/TSM heads, which build it by hand (``AvgConsensus`` is
#: no registered type: MMAction2's own TSM configs were rejected).
LAYER_CFGS = frozenset(
    {'norm_cfg', 'conv_cfg', 'act_cfg', 'pad_cfg', 'block', 'consensus'})


def typed_dicts(node: Any, key: str,
                 registry: Optional[Registry]) -> Iterator[Tuple[str, dict,
                                                                Registry]]:
    """Yield (key path, dict, registry) for every dict with a ``type``."""
    if isinstance(node, dict):
        if 'type' in node and registry is not None:
            yield key, node, registry
        for child_key, child in node.items():
            if child_key == 'type' or child_key in LAYER_CFGS:
                continue
            child_registry = NESTED_REGISTRIES.get(child_key, registry)
            yield from typed_dicts(child, f'{key}.{child_key}',
                                    child_registry)
    elif isinstance(node, (list, tuple)):
        for i, child in enumerate(node):
            yield from typed_dicts(child, f'{key}[{i}]', registry)
