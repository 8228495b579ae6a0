# TRN-R50: temporal A² (each block sees the 8 segments of a clip as
# (N, C, T, H, W)) after blocks 1, 3 of res3 and 1, 3, 5 of res4. Its 2D
# ResNet has no num_segments: 8 = the train pipeline's SampleFrames num_clips.
# Everything else is MMAction2's config.
_base_ = 'mmaction::recognition/trn/trn_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv1-rgb.py'  # noqa: E501
custom_imports = dict(imports=['a2mm'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        _delete_=True,
        type='A2Inserted',
        backbone={{_base_.model.backbone}},
        stages='default',
        num_segments=8))
