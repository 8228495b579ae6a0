# R(2+1)D-34 with A² blocks after blocks 1, 3 of res3 and 1, 3, 5 of res4
# (the family default).
# Everything else is MMAction2's config.
_base_ = 'mmaction::recognition/r2plus1d/r2plus1d_r34_8xb8-8x8x1-180e_kinetics400-rgb.py'  # noqa: E501
custom_imports = dict(imports=['a2mm'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        _delete_=True,
        type='A2Inserted',
        backbone={{_base_.model.backbone}},
        stages='default'))
