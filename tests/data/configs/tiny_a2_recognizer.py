# A tiny A² recognizer for the tool tests (4 frames of 32x32, 5 classes):
# A2ResNet3d with BasicBlocks, 2 stages of 8/16 channels, A² blocks after
# layer1.1, layer2.0 and layer2.1 (m = n = C/4), made non-identity
# (zero_init=False) so that they change the scores the tests compare.
custom_imports = dict(imports=['a2mm'], allow_failed_imports=False)
default_scope = 'mmaction'

model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='A2ResNet3d',
        a2=((0, 1), (1, 1)),
        a2_cfg=dict(zero_init=False),
        depth=18,
        base_channels=8,
        num_stages=2,
        out_indices=(1, ),
        spatial_strides=(1, 2),
        temporal_strides=(1, 1),
        dilations=(1, 1),
        conv1_kernel=(3, 7, 7),
        conv1_stride_t=1,
        pool1_stride_t=1,
        inflate=(1, 1),
        pretrained=None,
        pretrained2d=False),
    cls_head=dict(
        type='I3DHead',
        num_classes=5,
        in_channels=16,
        spatial_type='avg',
        dropout_ratio=0.0,
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'))

test_pipeline = [
    dict(type='DecordInit'),
    dict(
        type='SampleFrames',
        clip_len=4,
        frame_interval=2,
        num_clips=1,
        test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 40)),
    dict(type='CenterCrop', crop_size=32),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
