# Miniature of ../a2_r26_1block_res*.py: one A² block after the last
# residual block of stage 1 (16 channels, m = n = C/4 = 4).
_base_ = './r3d_mini_baseline.py'

model = dict(backbone=dict(a2=((0, 1), 0, 0)))
