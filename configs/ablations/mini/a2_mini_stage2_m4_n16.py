# Miniature of ../a2_r26_res4_m64_n256.py: the block of
# a2_mini_1block_stage2.py with m = 4 descriptor channels and n = 16
# descriptors (m x n = 64, as for its default m = n = 8).
_base_ = './a2_mini_1block_stage2.py'

model = dict(
    backbone=dict(a2_cfg=dict(descriptor_channels=4, num_descriptors=16)))
