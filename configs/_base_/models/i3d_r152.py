# Deeper plain baseline: I3D ResNet-152 (every block inflated).
_base_ = './i3d_r50.py'

model = dict(backbone=dict(depth=152, inflate=(1, 1, 1, 1)))
