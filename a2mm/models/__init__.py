from .blocks import A2Block

__all__ = ['A2Block']
