# Miniature of ../a2_r26_2blocks.py: two A² blocks, after the last
# residual block of stages 2 and 3.
_base_ = './r3d_mini_baseline.py'

model = dict(backbone=dict(a2=(0, (0, 1), (0, 1))))
