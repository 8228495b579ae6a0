"""Load a backbone's own checkpoint and say exactly what did not match.

MMEngine's ``load_checkpoint(strict=False)`` logs one long line of keys and
raises on a shape mismatch. A user who adds or moves A² blocks needs to see
which weights stayed at their initialisation (missing), which checkpoint
weights were dropped (unexpected) and which had the wrong shape; the
comparison is :func:`a2mm.engine.state_dict_report.compare_state_dicts`,
the same table the runner's checkpoint hook prints.
"""
import re
from typing import Optional

import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.runner.checkpoint import CheckpointLoader

from a2mm.engine.state_dict_report import (StateDictReport,
                                           compare_state_dicts)

__all__ = ['load_checkpoint_with_report']

#: DataParallel's ``module.`` and a recognizer's ``backbone.`` are stripped
#: from checkpoint keys, so a recognizer checkpoint loads into its backbone.
REVISE_KEYS = ((r'^module\.', ''), (r'^backbone\.', ''))


def load_checkpoint_with_report(
        model: nn.Module,
        filename: str,
        logger: Optional[MMLogger] = None) -> StateDictReport:
    """Load ``filename`` (a path or any MMEngine checkpoint URI) into
    ``model`` non-strictly, skipping wrong-shape weights instead of raising,
    and log what did not match.

    Returns:
        StateDictReport: missing, unexpected and mismatched keys.
    """
    logger = logger or MMLogger.get_current_instance()
    checkpoint = CheckpointLoader.load_checkpoint(filename, map_location='cpu')
    state_dict = checkpoint.get('state_dict', checkpoint)
    own = model.state_dict()
    report = compare_state_dicts(own, state_dict, REVISE_KEYS)
    skip = set(report.unexpected) | {key for key, _, _ in report.mismatched}
    loadable = {}
    for key, value in state_dict.items():
        for pattern, repl in REVISE_KEYS:
            key = re.sub(pattern, repl, key)
        if key not in skip:
            loadable[key] = value
    model.load_state_dict(loadable, strict=False)
    message = (f'loaded {len(loadable)} of {len(own)} tensors of '
               f'{type(model).__name__} from {filename}')
    if report.ok:
        logger.info(message)
    else:
        logger.warning(f'{message}; A² blocks missing from the checkpoint '
                       f'keep their identity initialisation.\n'
                       f'{report.format()}')
    return report
