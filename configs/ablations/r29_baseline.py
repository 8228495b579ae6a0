# Deeper plain baseline of the ablations: 3D ResNet-29, i.e. ResNet-26 plus
# one bottleneck block (3 layers). Where the extra block goes is not
# confirmed by the paper; our choice: res4, where the single A² block of
# a2_r26_1block_res4.py sits.
_base_ = './r26_baseline.py'

model = dict(backbone=dict(stage_blocks=(2, 2, 3, 2)))
