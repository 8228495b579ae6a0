"""a2mm's optimizer wrappers (as ``mmaction.engine.optimizers``); importing
this package registers them in MMAction2's ``OPTIM_WRAPPERS``."""
from .amp_optim_wrapper import DeviceAmpOptimWrapper, has_accelerator

__all__ = ['DeviceAmpOptimWrapper', 'has_accelerator']
