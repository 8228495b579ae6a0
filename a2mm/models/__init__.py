from .backbones import *  # noqa: F401,F403
from .blocks import A2Block

__all__ = ['A2Block']
