# I3D ResNet-50 (ImageNet ResNet-50 inflated to 3D). The inflation pattern,
# head and input normalisation are those of MMAction2's
# configs/_base_/models/i3d_r50.py (not inherited with 'mmaction::': that
# needs setuptools' pkg_resources at config-parse time).
# Adapted to the paper's 8-frame Kinetics clips (docs/paper.md: 8 frames;
# resolution and strides not confirmed). Our choice, not the paper's: no
# temporal stride in conv1 and pool1 (MMAction2's I3D takes 32 frames and
# strides both by 2); `pool2` halves time after res2, so res3-res5 see 4 time
# steps.
# `pretrained=None` here so that the model builds and initialises anywhere;
# the Kinetics configs point it at a local torchvision ResNet-50 file (no
# download at run time).
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ResNet3d',
        depth=50,
        pretrained=None,
        pretrained2d=True,
        conv1_kernel=(5, 7, 7),
        conv1_stride_t=1,
        pool1_stride_t=1,
        with_pool2=True,
        norm_eval=False,
        inflate=((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0)),
        zero_init_residual=False),
    cls_head=dict(
        type='I3DHead',
        num_classes=400,
        in_channels=2048,
        spatial_type='avg',
        dropout_ratio=0.5,
        init_std=0.01,
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'))
