"""Moved to :mod:`a2mm.engine.runner.amp_loops` (the loops, as in
``mmaction.engine.runner``).

This alias keeps ``a2mm.engine.amp_loops`` importing; new code imports the
new path.
"""
from a2mm.engine.runner.amp_loops import *  # noqa: F401,F403
