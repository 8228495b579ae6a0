"""Helpers that hold no MMEngine state and import nothing of a2mm but its
registry; each is imported where it is used (:mod:`~a2mm.utils.amp`: the
mixed precision dtypes and autocast region)."""
