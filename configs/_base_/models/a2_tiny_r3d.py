# A small A² 3D ResNet for the embedded default and the end-to-end tests:
# MMAction2's ResNet3d with BasicBlocks (depth 18), 3 stages of 16/32/64
# channels, and A² blocks (A2ResNet3d, m = n = C/4 as in the paper's
# ablations) after the second block of stage 2 and after both blocks of
# stage 3. Sized for 8x32x32 clips on a 2-core CPU (our choice, not a
# model of the paper).
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='A2ResNet3d',
        a2=((0, 0), (0, 1), (1, 1)),
        depth=18,
        base_channels=16,
        num_stages=3,
        out_indices=(2, ),
        spatial_strides=(1, 2, 2),
        temporal_strides=(1, 1, 2),
        dilations=(1, 1, 1),
        conv1_kernel=(3, 7, 7),
        conv1_stride_t=1,
        pool1_stride_t=1,
        inflate=(1, 1, 1),
        pretrained=None,
        pretrained2d=False,
        norm_eval=False),
    cls_head=dict(
        type='I3DHead',
        num_classes=10,
        in_channels=64,
        spatial_type='avg',
        dropout_ratio=0.3,
        init_std=0.01,
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[127.5, 127.5, 127.5],
        std=[64.0, 64.0, 64.0],
        format_shape='NCTHW'))
