"""Load a backbone's own checkpoint and say exactly what did not match.

MMEngine's ``load_checkpoint(strict=False)`` logs one long line of keys. A
user who adds or moves A² blocks needs to see, per module, which weights
stayed at their initialisation (missing), which checkpoint weights were
dropped (unexpected) and which had the wrong shape.
"""
from collections import OrderedDict
from typing import Dict, List, NamedTuple, Optional

import torch
import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.runner.checkpoint import CheckpointLoader

__all__ = ['LoadReport', 'load_checkpoint_with_report']

#: Prefixes stripped from checkpoint keys when every key carries one:
#: DataParallel's ``module.`` and a recognizer's ``backbone.``.
_PREFIXES = ('module.', 'backbone.')


class LoadReport(NamedTuple):
    """What :func:`load_checkpoint_with_report` did not load."""
    missing: List[str]  # model keys absent from the checkpoint
    unexpected: List[str]  # checkpoint keys the model lacks
    mismatched: List[str]  # 'key: checkpoint (shape) vs model (shape)'


def _group(keys: List[str]) -> str:
    """``['a.b.w', 'a.b.bias', 'c.w']`` -> ``'a.b.{w, bias}, c.{w}'``."""
    groups: Dict[str, List[str]] = OrderedDict()
    for key in keys:
        module, _, param = key.rpartition('.')
        groups.setdefault(module, []).append(param)
    return ', '.join(f'{module}.{{{", ".join(params)}}}'
                     for module, params in groups.items())


def _strip_prefixes(state_dict: Dict[str, torch.Tensor],
                    model_keys: set) -> Dict[str, torch.Tensor]:
    for prefix in _PREFIXES:
        if state_dict and all(k.startswith(prefix) for k in state_dict) \
                and not any(k.startswith(prefix) for k in model_keys):
            state_dict = {k[len(prefix):]: v for k, v in state_dict.items()}
    return state_dict


def load_checkpoint_with_report(
        model: nn.Module,
        filename: str,
        logger: Optional[MMLogger] = None) -> LoadReport:
    """Load ``filename`` (a path, or any MMEngine checkpoint URI) into
    ``model`` non-strictly and log what did not match, grouped by module.

    Keys of a ``state_dict`` entry are used when present; a leading
    ``module.`` or ``backbone.`` on every key is stripped (a recognizer's
    checkpoint loads into its backbone). Weights with the wrong shape are
    skipped and reported instead of raising.

    Returns:
        LoadReport: missing, unexpected and mismatched keys.
    """
    logger = logger or MMLogger.get_current_instance()
    checkpoint = CheckpointLoader.load_checkpoint(filename, map_location='cpu')
    state_dict = checkpoint.get('state_dict', checkpoint) \
        if isinstance(checkpoint, dict) else checkpoint
    own = model.state_dict()
    state_dict = _strip_prefixes(dict(state_dict), set(own))

    mismatched, loadable = [], {}
    for key, value in state_dict.items():
        if key in own and own[key].shape != value.shape:
            mismatched.append(f'{key}: checkpoint {tuple(value.shape)} vs '
                              f'model {tuple(own[key].shape)}')
        else:
            loadable[key] = value
    result = model.load_state_dict(loadable, strict=False)
    missing = [k for k in result.missing_keys if k not in state_dict]
    report = LoadReport(missing, list(result.unexpected_keys), mismatched)

    lines = [f'loaded {len(loadable) - len(report.unexpected)} of '
             f'{len(own)} tensors of {type(model).__name__} from {filename}']
    if report.missing:
        lines.append(f'missing in the checkpoint (left at their '
                     f'initialisation; new A² blocks start as identity): '
                     f'{_group(report.missing)}')
    if report.unexpected:
        lines.append('in the checkpoint but not in the model (ignored): '
                     f'{_group(report.unexpected)}')
    if report.mismatched:
        lines.append('wrong shape (ignored): ' + '; '.join(report.mismatched))
    level = 'warning' if len(lines) > 1 else 'info'
    getattr(logger, level)('\n'.join(lines))
    return report
