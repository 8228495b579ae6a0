"""Moved to :mod:`a2mm.engine.hooks.visualization_hook` (one hook per file
under ``a2mm/engine/hooks/``).

This alias keeps ``a2mm.engine.visualization_hook`` importing; new code
imports the new path.
"""
from a2mm.engine.hooks.visualization_hook import *  # noqa: F401,F403
