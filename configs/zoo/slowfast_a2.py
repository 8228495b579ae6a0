# SlowFast-R50 with A² blocks after blocks 1, 3 of res3 and 1, 3, 5 of res4
# in both pathways (the family default; 'slow_res4' etc. name one pathway).
# Everything else is MMAction2's config.
_base_ = 'mmaction::recognition/slowfast/slowfast_r50_8xb8-4x16x1-256e_kinetics400-rgb.py'  # noqa: E501
custom_imports = dict(imports=['a2mm'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        _delete_=True,
        type='A2Inserted',
        backbone={{_base_.model.backbone}},
        stages='default'))
