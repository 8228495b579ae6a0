# X3D-M with A² blocks after blocks 1, 3 of res3 and 1, 3, 5 of res4 (the
# family default).
# Everything else is MMAction2's config.
_base_ = 'mmaction::recognition/x3d/x3d_m_16x5x1_facebook-kinetics400-rgb.py'
custom_imports = dict(imports=['a2mm'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        _delete_=True,
        type='A2Inserted',
        backbone={{_base_.model.backbone}},
        stages='default'))
