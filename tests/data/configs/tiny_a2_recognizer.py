# A tiny A² recognizer for the tool tests: 4 frames of 32x32, two A² blocks
# (made non-identity, so they change the output), 5 classes.
custom_imports = dict(
    imports=['a2mm', 'tests.data.tiny_a2'], allow_failed_imports=False)
default_scope = 'mmaction'

model = dict(
    type='Recognizer3D',
    backbone=dict(type='TinyA2Backbone3d', a2_cfg=dict(zero_init=False)),
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
