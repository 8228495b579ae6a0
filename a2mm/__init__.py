"""a2mm: double attention networks (A²-Nets) for MMAction2.

Importing this package registers every a2mm module in MMAction2's registries
(and loads nothing else: no demo, plotting or video-writing code), so a
config needs only
``custom_imports = dict(imports=['a2mm'], allow_failed_imports=False)``,
and makes ``_base_ = ['mmaction::...']`` and ``['a2mm::...']`` resolve and
checkpoints load safely (:mod:`a2mm.compat`, the one place that changes
anything outside a2mm).
"""
import warnings

from . import compat

# everything a2mm changes outside itself, before anything imports
# mmaction.models: the version check, MMAction2 1.2.0's missing DRN package,
# `pkg::` config bases, the safe checkpoint loader (a2mm/compat/)
compat.apply()

with warnings.catch_warnings():
    # mmcv-lite has no compiled ops, so mmcv's transformer bricks warn at
    # import that MultiScaleDeformableAttention is missing; nothing in a2mm or
    # in MMAction2's recognizers uses it. Remove with a full mmcv build.
    warnings.filterwarnings(
        'ignore', message='Fail to import ``MultiScaleDeformableAttention``')
    import mmaction.models  # noqa: F401  (fills MMAction2's registries)

# the layers bottom-up (docs/architecture.md)
from . import utils  # noqa: F401
from .models import *  # noqa: F401,F403
from . import datasets  # noqa: F401  (RobustVideoDataset)
from . import evaluation  # noqa: F401  (SkippedVideosMetric)
from . import engine  # noqa: F401  (hooks, AMP loops and optim wrapper)
# its names load their modules on first use: no plotting, cv2 or ONNX code
# here (tests/test_import.py)
from . import apis  # noqa: F401,E402
from .version import __version__

__all__ = ['__version__']
