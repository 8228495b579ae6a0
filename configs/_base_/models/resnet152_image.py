# ImageNet-1k image classifier: ResNet-152, the paper's comparison point for
# A²-ResNet-50 (docs/paper.md, claims). Built as MMAction2's Recognizer2D
# with a one-segment TSN head (global average pool + fc over 1000 classes),
# so that it uses the same toolkit as the video models; only its parameters
# and FLOPs on 224x224 images are measured
# (tools/analysis/efficiency_summary.py).
model = dict(
    type='Recognizer2D',
    backbone=dict(type='ResNet', depth=152, pretrained=None),
    cls_head=dict(
        type='TSNHead',
        num_classes=1000,
        in_channels=2048,
        spatial_type='avg',
        consensus=dict(type='AvgConsensus', dim=1),
        dropout_ratio=0.0,
        init_std=0.01),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCHW'))
