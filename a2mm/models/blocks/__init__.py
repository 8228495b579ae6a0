from .a2_block import A2Block

__all__ = ['A2Block']
