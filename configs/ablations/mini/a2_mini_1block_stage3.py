# Miniature of ../a2_r26_1block_res5.py: one A² block after the last
# residual block of stage 3 (64 channels, m = n = C/4 = 16), right before
# the global average pooling of the head.
_base_ = './r3d_mini_baseline.py'

model = dict(backbone=dict(a2=(0, 0, (0, 1))))
