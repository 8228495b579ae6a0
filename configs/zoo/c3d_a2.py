# C3D with A² blocks after conv3b and conv4b (the family default).
# Everything else is MMAction2's config.
_base_ = 'mmaction::recognition/c3d/c3d_sports1m-pretrained_8xb30-16x1x1-45e_ucf101-rgb.py'  # noqa: E501
custom_imports = dict(imports=['a2mm'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        _delete_=True,
        type='A2Inserted',
        backbone={{_base_.model.backbone}},
        stages='default'))
