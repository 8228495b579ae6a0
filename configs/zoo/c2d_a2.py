# C2D-R50 (2D ResNet over each frame): temporal A² (each block sees the
# frames of a clip as (N, C, T, H, W)) after blocks 1, 3 of res3 and 1, 3, 5
# of res4 (the family default).
# Everything else is MMAction2's config.
_base_ = 'mmaction::recognition/c2d/c2d_r50-in1k-pre_8xb32-8x8x1-100e_kinetics400-rgb.py'  # noqa: E501
custom_imports = dict(imports=['a2mm'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        _delete_=True,
        type='A2Inserted',
        backbone={{_base_.model.backbone}},
        stages='default'))
