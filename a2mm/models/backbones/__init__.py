from .a2_inserted import A2Inserted
from .a2_resnet import A2ResNet
from .a2_resnet3d import A2ResNet3d
from .a2_stages import A2_PLACEMENTS
from .block_inserted import BlockInserted

__all__ = [
    'A2Inserted', 'A2ResNet', 'A2ResNet3d', 'A2_PLACEMENTS', 'BlockInserted'
]
