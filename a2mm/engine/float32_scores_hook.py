"""Moved to :mod:`a2mm.engine.hooks.float32_scores_hook` (one hook per file
under ``a2mm/engine/hooks/``).

This alias keeps ``a2mm.engine.float32_scores_hook`` importing; new code
imports the new path.
"""
from a2mm.engine.hooks.float32_scores_hook import *  # noqa: F401,F403
