# Deeper plain baseline: I3D ResNet-101 (ResNet3d's own inflation defaults
# for the extra res4 blocks: every block inflated).
_base_ = './i3d_r50.py'

model = dict(backbone=dict(depth=101, inflate=(1, 1, 1, 1)))
