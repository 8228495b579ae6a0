# Miniature of ../a2_r26_1block_res4.py: one A² block after the last
# residual block of stage 2 (32 channels, m = n = C/4 = 8). The place of
# the single block of the m/n, non-local and context-block arms (the
# second-to-last stage, as res4 of the full-size ablations).
_base_ = './r3d_mini_baseline.py'

model = dict(backbone=dict(a2=(0, (0, 1), 0)))
