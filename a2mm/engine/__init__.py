"""What a2mm adds to MMEngine's runner: safe checkpoint loading (imported for
its side effect of allow-listing MMEngine's checkpoint contents) and the
CPU fallback for distributed runs; a visualisation hook for multi-view
tests."""
from . import checkpoint  # noqa: F401
from .dist import setup_cpu_distributed
from .visualization_hook import MultiViewVisualizationHook

__all__ = ['setup_cpu_distributed', 'MultiViewVisualizationHook']
