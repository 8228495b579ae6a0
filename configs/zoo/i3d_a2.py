# I3D-R50 with A² blocks after blocks 1, 3 of res3 and 1, 3, 5 of res4 (the
# family default, 'res34_5': where MMAction2's non-local I3D puts its
# non-local blocks); everything else is MMAction2's config.
_base_ = 'mmaction::recognition/i3d/i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb.py'  # noqa: E501
custom_imports = dict(imports=['a2mm'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        _delete_=True,
        type='A2Inserted',
        backbone={{_base_.model.backbone}},
        stages='default'))
