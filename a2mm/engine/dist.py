"""Moved to :mod:`a2mm.utils.dist`; this alias keeps ``a2mm.engine.dist``
working (older configs and docs named it)."""
from a2mm.utils.dist import close_distributed  # noqa: F401
from a2mm.utils.dist import setup_cpu_distributed  # noqa: F401

__all__ = ['setup_cpu_distributed', 'close_distributed']
