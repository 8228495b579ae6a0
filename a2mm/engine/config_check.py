"""Moved to :mod:`a2mm.apis.config_check` (it builds models; its one job split
over small modules).

This alias keeps ``a2mm.engine.config_check`` importing; new code imports
the new path.
"""
from a2mm.apis.config_check import *  # noqa: F401,F403
