"""Moved to :mod:`a2mm.engine.optimizers.amp_optim_wrapper` (as in
``mmaction.engine.optimizers``).

This alias keeps ``a2mm.engine.amp_optim_wrapper`` importing; new code
imports the new path.
"""
from a2mm.engine.optimizers.amp_optim_wrapper import *  # noqa: F401,F403
from a2mm.engine.optimizers.amp_optim_wrapper import (  # noqa: F401
    cpu_grad_scaler)
