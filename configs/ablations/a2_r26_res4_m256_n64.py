# Ablation, sizes of the A² block: m = 256 (descriptor channels), n = 64
# (number of descriptors) for the single block of a2_r26_1block_res4.py
# (C = 1024 there, so its default is m = n = C/4 = 256). The paper's exact
# (m, n) grid is not confirmed; these values are our choice.
_base_ = './a2_r26_1block_res4.py'

model = dict(
    backbone=dict(a2_cfg=dict(descriptor_channels=256, num_descriptors=64)))
