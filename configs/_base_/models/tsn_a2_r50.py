# TSN with the 2D A²-ResNet-50 (frame-level model): MMAction2's TSN-R50
# (configs/_base_/models/tsn_r50.py: head, consensus, normalisation) with
# A² blocks at the 'res34_5' places (our choice; see a2_i3d_r50.py).
# `pretrained=None`: no download at run time; set a local torchvision
# ResNet-50 file to start from ImageNet weights.
model = dict(
    type='Recognizer2D',
    backbone=dict(
        type='A2ResNet',
        depth=50,
        pretrained=None,
        norm_eval=False,
        a2='res34_5'),
    cls_head=dict(
        type='TSNHead',
        num_classes=400,
        in_channels=2048,
        spatial_type='avg',
        consensus=dict(type='AvgConsensus', dim=1),
        dropout_ratio=0.4,
        init_std=0.01,
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCHW'))
