"""Where a2mm registers its modules.

Everything a2mm builds lives in MMAction2's ``MODELS`` registry (scope
``mmaction``), so configs written for MMAction2 find it by ``type=``.
:func:`register_model` also registers into MMEngine's root ``MODELS``,
because mmcv's :func:`~mmcv.cnn.build_plugin_layer` looks a type up in the
*current default scope*, which is the root when no runner has set
``default_scope='mmaction'`` (a plain script, or another OpenMMLab library).
"""
from typing import TypeVar

from mmaction.registry import MODELS
from mmengine.registry import MODELS as ROOT_MODELS

__all__ = ['MODELS', 'register_model']

T = TypeVar('T', bound=type)


def register_model(cls: T) -> T:
    """Class decorator: register ``cls`` in MMAction2's and MMEngine's
    ``MODELS`` under its class name."""
    MODELS.register_module(module=cls)
    ROOT_MODELS.register_module(module=cls)
    return cls


