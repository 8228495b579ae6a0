"""Helpers that hold no MMEngine state and import nothing of a2mm but its
registry: :mod:`~a2mm.utils.input_shape` (the input shape a backbone takes,
for dry runs and FLOP counts)."""
from .input_shape import guess_input_shape

__all__ = ['guess_input_shape']
