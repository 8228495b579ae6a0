# Miniature of ../a2_r26_4blocks.py: four A² blocks, after both residual
# blocks of stages 2 and 3.
_base_ = './r3d_mini_baseline.py'

model = dict(backbone=dict(a2=(0, (1, 1), (1, 1))))
