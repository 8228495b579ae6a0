# TIN-R50 (needs full mmcv: tin_shift is a compiled op): temporal A² (T =
# the backbone's num_segments) after blocks 1, 3 of res3 and 1, 3, 5 of res4.
# Everything else is MMAction2's config.
_base_ = 'mmaction::recognition/tin/tin_imagenet-pretrained-r50_8xb6-1x1x8-40e_sthv1-rgb.py'  # noqa: E501
custom_imports = dict(imports=['a2mm'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        _delete_=True,
        type='A2Inserted',
        backbone={{_base_.model.backbone}},
        stages='default'))
