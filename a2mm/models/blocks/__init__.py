from .a2_block import A2Block
from .context_block3d import ContextBlock3d

__all__ = ['A2Block', 'ContextBlock3d']
