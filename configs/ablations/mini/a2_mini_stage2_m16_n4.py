# Miniature of ../a2_r26_res4_m256_n64.py: the block of
# a2_mini_1block_stage2.py with m = 16 descriptor channels and n = 4
# descriptors; m x n = 64 as for its default m = n = 8 (equal cost of the
# bilinear pooling, as in the full-size m/n configs).
_base_ = './a2_mini_1block_stage2.py'

model = dict(
    backbone=dict(a2_cfg=dict(descriptor_channels=16, num_descriptors=4)))
