# Ablation, number of A² blocks: 2, after the last block of res3 and res4
# (our choice of places). Compare a2_r26_1block_res4.py and
# a2_r26_4blocks.py.
_base_ = './r26_baseline.py'

model = dict(backbone=dict(type='A2ResNet3d', a2=(0, (0, 1), (0, 1), 0)))
