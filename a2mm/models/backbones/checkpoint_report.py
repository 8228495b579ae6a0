"""Load a backbone's own checkpoint and say exactly what did not match.

MMEngine's ``load_checkpoint(strict=False)`` logs one long line of keys and
raises on a shape mismatch. A user who adds or moves A² blocks needs to see
which weights stayed at their initialisation (missing), which checkpoint
weights were dropped (unexpected) and which had the wrong shape; the
comparison is :func:`a2mm.utils.checkpoint.compare_state_dicts`,
the same table the runner's checkpoint hook prints.
"""
import re
from typing import Optional, Sequence, Tuple

import torch.nn as nn
from mmengine.logging import MMLogger

from a2mm.utils.checkpoint import (StateDictReport, compare_state_dicts,
                                   read_state_dict)
from .a2_stages import a2_block_names

__all__ = ['load_checkpoint_with_report']

#: DataParallel's ``module.`` and a recognizer's ``backbone.`` are stripped
#: from checkpoint keys, so a recognizer checkpoint loads into its backbone.
REVISE_KEYS = ((r'^module\.', ''), (r'^backbone\.', ''))


def load_checkpoint_with_report(
        model: nn.Module,
        filename: str,
        logger: Optional[MMLogger] = None,
        *,
        revise_keys: Sequence[Tuple[str, str]] = REVISE_KEYS
) -> StateDictReport:
    """Load ``filename`` (a ``.pth`` or ``.safetensors`` file, or any
    MMEngine checkpoint URI) into ``model`` non-strictly, skipping
    wrong-shape weights instead of raising, and log what did not match.

    A² blocks of ``model`` that the checkpoint lacks entirely (a plain
    ResNet3d / I3D checkpoint) are reported as new A² blocks, which keep
    their identity initialisation; that alone is logged at INFO level.

    Args:
        model: a backbone, or a whole recognizer with
            ``revise_keys=((r'^module\\.', ''), )``.
        filename: the checkpoint.
        logger: where the report goes (default: the current MMLogger).
        revise_keys: ``(pattern, replacement)`` applied to the checkpoint's
            keys (default: strip ``module.`` and ``backbone.``).

    Returns:
        StateDictReport: missing, unexpected and mismatched keys, and the
        new A² blocks.
    """
    logger = logger or MMLogger.get_current_instance()
    state_dict = read_state_dict(filename)
    own = model.state_dict()
    report = compare_state_dicts(own, state_dict, revise_keys,
                                 new_blocks=a2_block_names(model))
    skip = set(report.unexpected) | {key for key, _, _ in report.mismatched}
    loadable = {}
    for key, value in state_dict.items():
        for pattern, repl in revise_keys:
            key = re.sub(pattern, repl, key)
        if key not in skip:
            loadable[key] = value
    model.load_state_dict(loadable, strict=False)
    message = (f'loaded {len(loadable)} of {len(own)} tensors of '
               f'{type(model).__name__} from {filename}')
    if report.ok:
        logger.info(message + (f'; {report.format()}'
                               if report.new_blocks else ''))
    else:
        logger.warning(f'{message}; the model tensors not loaded keep '
                       f'their initial values.\n{report.format()}')
    return report
