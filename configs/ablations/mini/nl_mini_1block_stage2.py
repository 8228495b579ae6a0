# Miniature of ../nl_r26_1block_res4.py: one non-local block (mmcv's
# NonLocal3d, embedded Gaussian, max-pool sub-sampling, BN) where
# a2_mini_1block_stage2.py puts its A² block (after the residual ReLU of the
# last block of stage 2, through ResNet3d's non_local=).
_base_ = './r3d_mini_baseline.py'

model = dict(
    backbone=dict(
        non_local=(0, (0, 1), 0),
        non_local_cfg=dict(
            sub_sample=True,
            use_scale=False,
            norm_cfg=dict(type='BN3d', requires_grad=True),
            mode='embedded_gaussian')))
