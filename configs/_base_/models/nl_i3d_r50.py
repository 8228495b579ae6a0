# Non-local I3D ResNet-50 baseline: non-local blocks at the same 5 places as
# the A² blocks of a2_i3d_r50.py, configured as MMAction2's
# i3d_imagenet-pretrained-r50-nl-embedded-gaussian recipe (embedded Gaussian,
# max-pool sub-sampling of keys/values, BN on the output).
_base_ = './i3d_r50.py'

model = dict(
    backbone=dict(
        non_local=((0, 0, 0), (0, 1, 0, 1), (0, 1, 0, 1, 0, 1), (0, 0, 0)),
        non_local_cfg=dict(
            sub_sample=True,
            use_scale=False,
            norm_cfg=dict(type='BN3d', requires_grad=True),
            mode='embedded_gaussian')))
