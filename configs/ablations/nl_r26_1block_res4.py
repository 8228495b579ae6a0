# Ablation baseline: one non-local block where a2_r26_1block_res4.py puts
# its A² block, configured as in ../_base_/models/nl_i3d_r50.py (MMAction2's
# embedded Gaussian with max-pool sub-sampling and BN).
_base_ = './r26_baseline.py'

model = dict(
    backbone=dict(
        non_local=(0, 0, (0, 1), 0),
        non_local_cfg=dict(
            sub_sample=True,
            use_scale=False,
            norm_cfg=dict(type='BN3d', requires_grad=True),
            mode='embedded_gaussian')))
